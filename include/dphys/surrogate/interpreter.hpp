// dphys/surrogate/interpreter.hpp — the SIMD interpreter of expression programs: evaluates a
// program's pair kernel over chunks of pairs (one operator over a whole chunk of xsimd::batch<double>
// lanes, so interpretation overhead is amortised), sums s·(x_j − x_i) into accelerations for all
// particles (Jacobi semantics) and applies the update rule. No extension points.
//
// Determinism: pairs are visited in a fixed order (i ascending; j ascending, or by (r2, j) for
// knn) and summed in that order, so a result depends only on the program, the snapshot and the
// binary. Failure modes: protected operators never trap; their domain errors are counted in
// eval_counters. Mass is carried through structurally (step never writes m). Thread safety: one
// interpreter per thread (it owns scratch buffers); programs and snapshots may be shared.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <dphys/nbody/particles.hpp>
#include <dphys/surrogate/program.hpp>

namespace dphys::surrogate {

namespace detail {

// √x for batches of double. On AVX-512, GCC 12 warns falsely (-Wmaybe-uninitialized) about the
// unmasked intrinsic xsimd uses; the zero-masking form with a full mask is the same instruction.
template <class A>
xsimd::batch<double, A> sqrt_batch(const xsimd::batch<double, A>& x) {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_base_of_v<xsimd::avx512f, A>)
    return _mm512_maskz_sqrt_pd(static_cast<__mmask8>(0xff), x);
  else
#endif
    return xsimd::sqrt(x);
}

}  // namespace detail

/// Work counted while interpreting (deterministic; the crucible's cost comes from here).
struct eval_counters {
  std::uint64_t kernel_evaluations = 0;  ///< pair-kernel evaluations (pairs incl. far-field pairs)
  std::uint64_t node_evaluations = 0;    ///< kernel_evaluations × kernel size
  std::uint64_t domain_errors = 0;       ///< lanes where a protected case applied
  std::uint64_t force_passes = 0;        ///< acceleration passes over all particles

  eval_counters& operator+=(const eval_counters& o) {
    kernel_evaluations += o.kernel_evaluations;
    node_evaluations += o.node_evaluations;
    domain_errors += o.domain_errors;
    force_passes += o.force_passes;
    return *this;
  }
};

class interpreter {
 public:
  using batch = xsimd::batch<double>;
  static constexpr std::size_t lanes = batch::size;
  static constexpr std::size_t chunk = 256;  ///< pairs per interpretation pass; multiple of lanes
  static_assert(chunk % lanes == 0);

  /// Precondition: well_formed(p.kernel, p.constants.size()) and the kernel is not empty.
  explicit interpreter(program p) : prog_(std::move(p)) {
    const auto& k = prog_.kernel;
    for (const node& n : k)
      if (is_pair_term(n.code)) uses_[static_cast<std::size_t>(n.code)] = true;
    // derived terms need their inputs
    if (uses_[idx(op::r)]) uses_[idx(op::r2)] = true;
    const std::size_t h = std::max<std::size_t>(1, stack_height(k));
    slots_.assign(h * chunk, 0.0);
    terms_.assign(pair_term_count * chunk, 0.0);
    valid_.assign(chunk, 0.0);
    // one broadcast buffer per literal/constant node
    leaf_buf_.assign(k.size(), -1);
    std::size_t nb = 0;
    for (std::size_t i = 0; i < k.size(); ++i)
      if (k[i].code == op::literal || k[i].code == op::constant) leaf_buf_[i] = static_cast<int>(nb++);
    lit_.assign(nb * chunk, 0.0);
    for (std::size_t i = 0; i < k.size(); ++i)
      if (leaf_buf_[i] >= 0) {
        const double v =
            k[i].code == op::literal ? k[i].value : prog_.constants[k[i].index].value;
        std::fill_n(lit_.begin() + static_cast<std::ptrdiff_t>(leaf_buf_[i]) * chunk, chunk, v);
      }
    target_.resize(chunk);
    ptr_.resize(h);
  }

  [[nodiscard]] const program& code() const noexcept { return prog_; }

  /// a_i = Σ_{selected j} s_ij (x_j − x_i) (+ the far-field pair), for every particle, all from the
  /// same snapshot `p` (Jacobi). Resizes ax, ay, az to p.size().
  void accelerations(const nbody::particles<double>& p, std::vector<double>& ax,
                     std::vector<double>& ay, std::vector<double>& az, eval_counters& c) {
    const std::size_t n = p.size();
    ax.assign(n, 0.0);
    ay.assign(n, 0.0);
    az.assign(n, 0.0);
    ax_ = &ax;
    ay_ = &ay;
    az_ = &az;
    count_ = 0;
    ++c.force_passes;
    const auto& nr = prog_.neighbours;
    std::vector<std::size_t>& sel = sel_;
    std::vector<char>& in = in_;
    for (std::size_t i = 0; i < n; ++i) {
      sel.clear();
      if (nr.kind == neighbour_kind::all) {
        push_range_(p, i, 0, i, c);  // j ascending, i skipped: same order as the per-pair path
        push_range_(p, i, i + 1, n, c);
        continue;
      } else if (nr.kind == neighbour_kind::cutoff) {
        const double r2max = nr.radius * nr.radius;
        for (std::size_t j = 0; j < n; ++j)
          if (j != i && dist2_(p, i, j) < r2max) sel.push_back(j);
      } else {
        order_.clear();
        for (std::size_t j = 0; j < n; ++j)
          if (j != i) {
            const double d2 = dist2_(p, i, j);  // NaN last: keeps the ordering strict weak
            order_.emplace_back(std::isnan(d2) ? std::numeric_limits<double>::infinity() : d2, j);
          }
        const std::size_t kk = std::min<std::size_t>(static_cast<std::size_t>(nr.k), order_.size());
        std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(kk),
                          order_.end());
        for (std::size_t q = 0; q < kk; ++q) sel.push_back(order_[q].second);
      }
      for (std::size_t j : sel)
        push_(p, i, p.x[j], p.y[j], p.z[j], p.vx[j], p.vy[j], p.vz[j], p.m[j], c);
      if (nr.far_field && nr.kind != neighbour_kind::all && sel.size() + 1 < n) {
        in.assign(n, 0);
        for (std::size_t j : sel) in[j] = 1;
        in[i] = 1;
        double M = 0, X = 0, Y = 0, Z = 0, VX = 0, VY = 0, VZ = 0;
        for (std::size_t j = 0; j < n; ++j)
          if (!in[j]) {
            M += p.m[j];
            X += p.m[j] * p.x[j];
            Y += p.m[j] * p.y[j];
            Z += p.m[j] * p.z[j];
            VX += p.m[j] * p.vx[j];
            VY += p.m[j] * p.vy[j];
            VZ += p.m[j] * p.vz[j];
          }
        if (M != 0.0) push_(p, i, X / M, Y / M, Z / M, VX / M, VY / M, VZ / M, M, c);
      }
    }
    flush_(c);
  }

  /// Advances `p` by one step of length dt with the program's update rule. Masses are untouched.
  void step(nbody::particles<double>& p, double dt, eval_counters& c) {
    const auto& u = prog_.update;
    const std::size_t n = p.size();
    accelerations(p, ax_buf_, ay_buf_, az_buf_, c);
    switch (u.kind) {
      case update_kind::leapfrog: {
        const double h = u.kick * dt * 0.5;
        for (std::size_t i = 0; i < n; ++i) {
          p.vx[i] += h * ax_buf_[i];
          p.vy[i] += h * ay_buf_[i];
          p.vz[i] += h * az_buf_[i];
          p.x[i] += p.vx[i] * dt;
          p.y[i] += p.vy[i] * dt;
          p.z[i] += p.vz[i] * dt;
        }
        accelerations(p, ax_buf_, ay_buf_, az_buf_, c);
        for (std::size_t i = 0; i < n; ++i) {
          p.vx[i] += h * ax_buf_[i];
          p.vy[i] += h * ay_buf_[i];
          p.vz[i] += h * az_buf_[i];
        }
        break;
      }
      case update_kind::symplectic_euler: {
        const double h = u.kick * dt;
        for (std::size_t i = 0; i < n; ++i) {
          p.vx[i] += h * ax_buf_[i];
          p.vy[i] += h * ay_buf_[i];
          p.vz[i] += h * az_buf_[i];
          p.x[i] += p.vx[i] * dt;
          p.y[i] += p.vy[i] * dt;
          p.z[i] += p.vz[i] * dt;
        }
        break;
      }
      case update_kind::taylor: {
        const double hv = u.cv * dt, ha = u.ca * dt * dt, hk = u.kick * dt;
        for (std::size_t i = 0; i < n; ++i) {
          p.x[i] += hv * p.vx[i] + ha * ax_buf_[i];
          p.y[i] += hv * p.vy[i] + ha * ay_buf_[i];
          p.z[i] += hv * p.vz[i] + ha * az_buf_[i];
          p.vx[i] += hk * ax_buf_[i];
          p.vy[i] += hk * ay_buf_[i];
          p.vz[i] += hk * az_buf_[i];
        }
        break;
      }
    }
  }

  /// Evaluates the kernel on `count` <= chunk pairs given as pair-term arrays (term t of pair q at
  /// terms[t * chunk + q], in op order dx..rdotv; derived terms are recomputed from dx..dvz and
  /// masses). Writes s into out[0, count). For tests and custom drivers.
  void evaluate_chunk(std::size_t count, double* out, eval_counters& c) {
    count_ = count;
    run_chunk_(c);
    std::copy_n(ptr_[0], count, out);
    count_ = 0;
  }
  /// The pair-term buffer used by evaluate_chunk (pair_term_count × chunk doubles).
  [[nodiscard]] double* terms() noexcept { return terms_.data(); }

 private:
  static constexpr std::size_t idx(op o) { return static_cast<std::size_t>(o); }
  static double dist2_(const nbody::particles<double>& p, std::size_t i, std::size_t j) {
    const double dx = p.x[j] - p.x[i], dy = p.y[j] - p.y[i], dz = p.z[j] - p.z[i];
    return dx * dx + dy * dy + dz * dz;
  }
  double* term_(op o) { return terms_.data() + idx(o) * chunk; }

  void push_(const nbody::particles<double>& p, std::size_t i, double xj, double yj, double zj,
             double vxj, double vyj, double vzj, double mj, eval_counters& c) {
    const std::size_t q = count_;
    term_(op::dx)[q] = xj - p.x[i];
    term_(op::dy)[q] = yj - p.y[i];
    term_(op::dz)[q] = zj - p.z[i];
    term_(op::dvx)[q] = vxj - p.vx[i];
    term_(op::dvy)[q] = vyj - p.vy[i];
    term_(op::dvz)[q] = vzj - p.vz[i];
    term_(op::m_i)[q] = p.m[i];
    term_(op::m_j)[q] = mj;
    target_[q] = i;
    if (++count_ == chunk) flush_(c);
  }

  // Pairs (i, j) for j in [j0, j1), in order, filled in bulk (vectorisable loops).
  void push_range_(const nbody::particles<double>& p, std::size_t i, std::size_t j0, std::size_t j1,
                   eval_counters& c) {
    const double xi = p.x[i], yi = p.y[i], zi = p.z[i], ui = p.vx[i], vi = p.vy[i],
                 wi = p.vz[i], mi = p.m[i];
    while (j0 < j1) {
      const std::size_t take = std::min(j1 - j0, chunk - count_);
      const std::size_t q0 = count_;
      double* dx = term_(op::dx) + q0;
      double* dy = term_(op::dy) + q0;
      double* dz = term_(op::dz) + q0;
      double* du = term_(op::dvx) + q0;
      double* dv = term_(op::dvy) + q0;
      double* dw = term_(op::dvz) + q0;
      double* mmi = term_(op::m_i) + q0;
      double* mmj = term_(op::m_j) + q0;
      const double* px = p.x.data() + j0;
      const double* py = p.y.data() + j0;
      const double* pz = p.z.data() + j0;
      const double* pu = p.vx.data() + j0;
      const double* pv = p.vy.data() + j0;
      const double* pw = p.vz.data() + j0;
      const double* pm = p.m.data() + j0;
      for (std::size_t q = 0; q < take; ++q) dx[q] = px[q] - xi;
      for (std::size_t q = 0; q < take; ++q) dy[q] = py[q] - yi;
      for (std::size_t q = 0; q < take; ++q) dz[q] = pz[q] - zi;
      for (std::size_t q = 0; q < take; ++q) du[q] = pu[q] - ui;
      for (std::size_t q = 0; q < take; ++q) dv[q] = pv[q] - vi;
      for (std::size_t q = 0; q < take; ++q) dw[q] = pw[q] - wi;
      std::fill_n(mmi, take, mi);
      std::copy_n(pm, take, mmj);
      std::fill_n(target_.begin() + static_cast<std::ptrdiff_t>(q0), take, i);
      count_ += take;
      j0 += take;
      if (count_ == chunk) flush_(c);
    }
  }

  void flush_(eval_counters& c) {
    if (count_ == 0) return;
    run_chunk_(c);
    const double* s = ptr_[0];
    const double* dx = term_(op::dx);
    const double* dy = term_(op::dy);
    const double* dz = term_(op::dz);
    auto& ax = *ax_;
    auto& ay = *ay_;
    auto& az = *az_;
    for (std::size_t q = 0; q < count_; ++q) {
      const std::size_t i = target_[q];
      ax[i] += s[q] * dx[q];
      ay[i] += s[q] * dy[q];
      az[i] += s[q] * dz[q];
    }
    count_ = 0;
  }

  // Runs the kernel over pairs [0, count_) of the chunk buffers; ptr_[0] points at the result.
  void run_chunk_(eval_counters& c) {
    const std::size_t n = count_;
    const std::size_t np = (n + lanes - 1) / lanes * lanes;
    // benign padding lanes (their results and domain errors are discarded)
    for (std::size_t t = 0; t < pair_term_count; ++t)
      std::fill(terms_.begin() + static_cast<std::ptrdiff_t>(t * chunk + n),
                terms_.begin() + static_cast<std::ptrdiff_t>(t * chunk + np), 1.0);
    std::fill_n(valid_.begin(), n, 1.0);
    std::fill(valid_.begin() + static_cast<std::ptrdiff_t>(n), valid_.begin() + static_cast<std::ptrdiff_t>(np), 0.0);
    derive_terms_(np);
    c.kernel_evaluations += n;
    c.node_evaluations += n * prog_.kernel.size();
    const auto& k = prog_.kernel;
    std::size_t sp = 0;
    batch errs(0.0);
    for (std::size_t i = 0; i < k.size(); ++i) {
      const op o = k[i].code;
      const int ar = arity(o);
      if (ar == 0) {
        ptr_[sp++] = is_pair_term(o) ? term_(o)
                                     : lit_.data() + static_cast<std::size_t>(leaf_buf_[i]) * chunk;
        continue;
      }
      double* out = slots_.data() + (sp - static_cast<std::size_t>(ar)) * chunk;
      if (ar == 1) {
        unary_(o, ptr_[sp - 1], out, np, errs);
        ptr_[sp - 1] = out;
      } else {
        binary_(o, ptr_[sp - 2], ptr_[sp - 1], out, np, errs);
        --sp;
        ptr_[sp - 1] = out;
      }
    }
    alignas(64) std::array<double, lanes> e{};
    errs.store_aligned(e.data());
    c.domain_errors +=
        static_cast<std::uint64_t>(std::accumulate(e.begin(), e.end(), 0.0)) + scalar_errors_;
    scalar_errors_ = 0;
  }

  void derive_terms_(std::size_t np) {
    const bool r2 = uses_[idx(op::r2)], r = uses_[idx(op::r)], dv2 = uses_[idx(op::dv2)],
               rv = uses_[idx(op::rdotv)];
    if (!(r2 || r || dv2 || rv)) return;
    const double *dx = term_(op::dx), *dy = term_(op::dy), *dz = term_(op::dz);
    const double *ux = term_(op::dvx), *uy = term_(op::dvy), *uz = term_(op::dvz);
    double *o_r2 = term_(op::r2), *o_r = term_(op::r), *o_dv2 = term_(op::dv2),
           *o_rv = term_(op::rdotv);
    for (std::size_t q = 0; q < np; q += lanes) {
      const batch x = batch::load_unaligned(dx + q), y = batch::load_unaligned(dy + q),
                  z = batch::load_unaligned(dz + q);
      if (r2) {
        const batch s = x * x + y * y + z * z;
        s.store_unaligned(o_r2 + q);
        if (r) detail::sqrt_batch(s).store_unaligned(o_r + q);
      }
      if (dv2 || rv) {
        const batch a = batch::load_unaligned(ux + q), b = batch::load_unaligned(uy + q),
                    d = batch::load_unaligned(uz + q);
        if (dv2) (a * a + b * b + d * d).store_unaligned(o_dv2 + q);
        if (rv) (x * a + y * b + z * d).store_unaligned(o_rv + q);
      }
    }
  }

  // exp, log and pow run lane by lane through apply_scalar (<cmath>): xsimd 8.1's double
  // exp/log/pow trip GCC 12's false -Wuninitialized on AVX-512, and per-lane <cmath> makes the
  // interpreter agree bit for bit with apply_scalar (and with constant folding).
  void scalar_(op o, const double* a, const double* b, double* out, std::size_t np) {
    std::uint64_t errs = 0;
    for (std::size_t q = 0; q < np; ++q) {
      bool err = false;
      out[q] = apply_scalar(o, a[q], b ? b[q] : 0.0, err);
      errs += err && valid_[q] != 0.0;
    }
    scalar_errors_ += errs;
  }

  void unary_(op o, const double* a, double* out, std::size_t np, batch& errs) {
    if (o == op::exp || o == op::log) return scalar_(o, a, nullptr, out, np);
    const batch zero(0.0);
    for (std::size_t q = 0; q < np; q += lanes) {
      const batch x = batch::load_unaligned(a + q);
      const batch w = batch::load_unaligned(valid_.data() + q);
      batch r;
      switch (o) {
        case op::neg:
          r = x ^ batch(-0.0);  // flips the sign bit like scalar −x (xsimd's −x is 0 − x on AVX-512)
          break;
        case op::abs:
          r = xsimd::abs(x);
          break;
        case op::sqrt:
          errs += xsimd::select(x < zero, w, zero);
          r = detail::sqrt_batch(xsimd::abs(x));
          break;
        default:
          r = x;
      }
      r.store_unaligned(out + q);
    }
  }

  // pow(a, e) for a uniform small_half_integer exponent e: the operations of pow_half_integer and
  // the protected cases of apply_scalar, on batches.
  void pow_half_(const double* a, double e, double* out, std::size_t np, batch& errs) {
    const batch zero(0.0), one(1.0);
    const double ae = std::fabs(e);
    const int whole = static_cast<int>(ae);
    const bool half = ae != whole;
    const bool integral = !half;
    const bool odd = integral && std::floor(e * 0.5) * 2.0 != e;
    for (std::size_t q = 0; q < np; q += lanes) {
      const batch x = batch::load_unaligned(a + q);
      const batch w = batch::load_unaligned(valid_.data() + q);
      const batch ax = xsimd::abs(x);
      batch p = one;
      for (int k = 0; k < whole; ++k) p = p * ax;
      if (half) p = p * detail::sqrt_batch(ax);
      if (e < 0) p = one / p;
      const auto negbase = x < zero;
      const auto zero_neg = (x == zero) && batch_bool_(e < 0);
      if (odd) p = xsimd::select(negbase, p ^ batch(-0.0), p);
      if (half) errs += xsimd::select(negbase, w, zero);
      errs += xsimd::select(zero_neg, w, zero);
      xsimd::select(zero_neg, zero, p).store_unaligned(out + q);
    }
  }
  static xsimd::batch_bool<double> batch_bool_(bool b) { return xsimd::batch_bool<double>(b); }

  void binary_(op o, const double* a, const double* b, double* out, std::size_t np,
               batch& errs) {
    if (o == op::pow) {
      // a uniform exponent (a number's broadcast buffer) with an exact short form: SIMD
      const bool uniform = b >= lit_.data() && b < lit_.data() + lit_.size();
      if (uniform && small_half_integer(b[0])) return pow_half_(a, b[0], out, np, errs);
      return scalar_(o, a, b, out, np);
    }
    const batch zero(0.0), one(1.0);
    for (std::size_t q = 0; q < np; q += lanes) {
      const batch x = batch::load_unaligned(a + q);
      const batch y = batch::load_unaligned(b + q);
      batch r;
      switch (o) {
        case op::add:
          r = x + y;
          break;
        case op::sub:
          r = x - y;
          break;
        case op::mul:
          r = x * y;
          break;
        case op::div: {
          const auto z = y == zero;
          errs += xsimd::select(z, batch::load_unaligned(valid_.data() + q), zero);
          r = xsimd::select(z, zero, x / xsimd::select(z, one, y));
          break;
        }
        case op::min:
          r = xsimd::select(y < x, y, x);
          break;
        case op::max:
          r = xsimd::select(x < y, y, x);
          break;
        default:
          r = x;
      }
      r.store_unaligned(out + q);
    }
  }

  program prog_;
  std::array<bool, pair_term_count> uses_{};
  std::vector<double> slots_, terms_, valid_, lit_;
  std::vector<int> leaf_buf_;
  std::vector<std::size_t> target_;
  std::vector<const double*> ptr_;
  std::size_t count_ = 0;
  std::uint64_t scalar_errors_ = 0;
  std::vector<double>*ax_ = nullptr, *ay_ = nullptr, *az_ = nullptr;
  std::vector<double> ax_buf_, ay_buf_, az_buf_;
  std::vector<std::size_t> sel_;
  std::vector<char> in_;
  std::vector<std::pair<double, std::size_t>> order_;
};

/// One step of `prog` from `snapshot` (Jacobi): the surrogate's batch "predict".
inline nbody::particles<double> predict(const program& prog, const nbody::particles<double>& snapshot,
                                        double dt, eval_counters* counters = nullptr) {
  interpreter in(prog);
  nbody::particles<double> out = snapshot;
  eval_counters c;
  in.step(out, dt, c);
  if (counters) *counters += c;
  return out;
}

}  // namespace dphys::surrogate
