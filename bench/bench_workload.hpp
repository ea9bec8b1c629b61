// bench_workload.hpp — the workload shared by dphys's benches and ../shared/peers: `l0` = koki2's CLI
// defaults; `ladder` = 4 sources, 2 bad (integrity loss 0.25), depletion with respawn delay 4, gradient
// dropout 0.5; plasticity on = spike modulator, η 0.05, λ 0.9 (koki2's Stage-2 condition).
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <immintrin.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <dirent.h>
#endif

#include <dphys/experiments/koki2.hpp>

namespace bench {

/// CPU seconds consumed so far by the threads of this process that are still running (the worker
/// pool's threads persist, so the difference of two readings around an evaluation is its CPU time
/// on every thread). On a loaded machine, agent-steps per CPU second is a steadier figure than per
/// wall-clock second; both are printed.
///
/// Linux: the sum of each thread's own CPU clock (the thread ids from /proc/self/task; the clock id
/// of thread `tid` is the kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)). The process clock
/// (CLOCK_PROCESS_CPUTIME_ID) brings only the calling thread's time up to date; another thread's
/// run time lags until its CPU's next tick or context switch, which on the test VM made the process
/// clock read between 0.5× and 2× the true CPU time of a 1.5-ms two-thread evaluation. It is the
/// fallback elsewhere.
inline double process_cpu_seconds() {
  auto seconds = [](const timespec& ts) {
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
#if defined(__linux__)
  if (DIR* dir = opendir("/proc/self/task")) {
    double sum = 0.0;
    bool ok = true;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const unsigned long tid = std::strtoul(entry->d_name, nullptr, 10);
      const auto clock = static_cast<clockid_t>((~tid << 3) | 6u);  // per-thread, CPUCLOCK_SCHED
      timespec ts{};
      if (clock_gettime(clock, &ts) == 0)
        sum += seconds(ts);
      else if (errno != EINVAL && errno != ESRCH)  // a thread that just exited is fine
        ok = false;
    }
    closedir(dir);
    if (ok) return sum;
  }
#endif
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return seconds(ts);
}

/// The 1-minute load average (-1 if unavailable): printed so a noisy measurement can be spotted.
inline double load_average() {
  double l[1] = {-1.0};
  return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

enum class bench_env { l0, ladder };
constexpr auto enum_names(bench_env) {
  return std::array{std::pair{bench_env::l0, std::string_view{"l0"}},
                    std::pair{bench_env::ladder, std::string_view{"ladder"}}};
}
enum class on_off { off, on };
constexpr auto enum_names(on_off) {
  return std::array{std::pair{on_off::off, std::string_view{"off"}},
                    std::pair{on_off::on, std::string_view{"on"}}};
}

/// Applies the command line to a bench config whose `config` field is a bench_env. `--help` or `-h`
/// prints the usage of `program` and the fields (then the caller exits: the result is false). The generic
/// reader treats `--config=X` as a JSON file name, so `--config=l0|ladder` (or `--config l0`) is taken
/// here first; everything else goes through dphys::apply_overrides, then the config is validated.
template <class BenchConfig>
[[nodiscard]] bool apply_bench_arguments(BenchConfig& bc, int argc, char** argv, std::string_view program) {
  if (dphys::wants_help(argc, argv)) {
    std::printf("usage: %.*s [--key=value ...]\n%s", static_cast<int>(program.size()), program.data(),
                dphys::describe(bc).c_str());
    return false;
  }
  std::vector<const char*> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a == "--config=l0" || a == "--config=ladder") {
      dphys::set_field(bc, "config", a.substr(9));
    } else if (a == "--config" && i + 1 < argc &&
               (std::string_view(argv[i + 1]) == "l0" || std::string_view(argv[i + 1]) == "ladder")) {
      dphys::set_field(bc, "config", argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  dphys::apply_overrides(bc, static_cast<int>(rest.size()), rest.data());
  dphys::validate(bc);
  return true;
}

/// acc·a + b in one fused instruction for the native register type (xsimd 8.1 has no AVX-512 fma
/// kernel and falls back to a multiply and an add).
#if defined(__AVX512F__)
inline __m512 fused_multiply_add(__m512 acc, __m512 a, __m512 b) { return _mm512_fmadd_ps(acc, a, b); }
#endif
#if defined(__FMA__)
inline __m256 fused_multiply_add(__m256 acc, __m256 a, __m256 b) { return _mm256_fmadd_ps(acc, a, b); }
inline __m128 fused_multiply_add(__m128 acc, __m128 a, __m128 b) { return _mm_fmadd_ps(acc, a, b); }
#endif
/// Any other register type (a build without FMA, e.g. -msse2, or another architecture): a multiply
/// and an add, 2 flops per lane as well, so the figure is that target's multiply–add peak.
template <class R>
R fused_multiply_add(R acc, R a, R b) {
  using B = dphys::simd::native;
  return (B(acc) * B(a) + B(b)).data;
}

/// Runs `fn` untimed until `seconds` of wall time have passed, at least once; returns how often.
/// Why: a fresh process's worker threads can start on the caller's vCPU, and while they only ever
/// run when the caller blocks, the scheduler sees no imbalance and leaves them there. On the 2-vCPU
/// test VM most 20-ms runs of 2 threads measured one-thread speed (2.0–2.8 ms per l0 evaluation
/// against 1.2–1.4 ms once the threads are spread). A benchmark of a steady state (an ES runs
/// thousands of evaluations) has to wait for that state first.
template <class Fn>
int warm_up(double seconds, Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  do {
    fn();
    ++n;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds);
  return n;
}

/// CPU seconds consumed by the calling thread.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Steps per second of thread CPU time of `Chains` independent chains acc[c] = step(acc[c], a, b),
/// best of `reps` runs of `iters` iterations (each iteration advances every chain once). `init(c)`
/// gives chain c's start, `value(acc)` a float of its end (summed into `sink`, which the caller makes
/// observable). Used for the FMA peak and the add ceiling below.
///
/// Why the loop is written as it is:
///  - The accumulators are a local array of raw registers, indexed only by fully unrolled loops, so
///    they live in registers for the whole timed loop: the loop body is the steps plus the loop
///    counter, with no load or store. (An earlier FMA kernel put an empty `asm volatile("" : "+v"(acc))`
///    on every accumulator after every round; g++ 12 then stored all 16 zmm accumulators to the
///    stack each iteration, the loop was bound by stores, and the "peak" it reported was 2.8×
///    too low on a Zen 4 core: 41.5–41.9 instead of 117 GFLOP/s fp32.)
///  - No folding: without -ffast-math the compiler may not reassociate a dependent chain of
///    roundings, so every step is executed. The only optimisation barrier is on the loop-invariant
///    operands a and b, once per iteration (an empty asm that emits no instruction): it keeps the
///    compiler from reasoning about their values, and costs nothing because they stay in registers.
template <int Chains, class R, class Init, class Step, class Value>
double chain_steps_per_s(int reps, long iters, Init init, R a, R b, Step step, Value value,
                         float& sink) {
  double best = 0.0;
  for (int r = 0; r < reps; ++r) {
    R acc[Chains];
#pragma GCC unroll 32
    for (int c = 0; c < Chains; ++c) acc[c] = init(c);
    const double t0 = thread_cpu_seconds();
    for (long i = 0; i < iters; ++i) {
      asm volatile("" : "+v"(a), "+v"(b));  // opaque loop-invariant operands; no instruction
#pragma GCC unroll 32
      for (int c = 0; c < Chains; ++c) acc[c] = step(acc[c], a, b);
    }
    const double s = thread_cpu_seconds() - t0;
#pragma GCC unroll 32
    for (int c = 0; c < Chains; ++c) sink += value(acc[c]);
    best = std::max(best, Chains * static_cast<double>(iters) / s);
  }
  return best;
}

/// Measured floating-point peak of one core: independent chains of fused multiply-adds
/// acc = acc·a + b on the native batch (2 flops per lane per FMA), timed by chain_steps_per_s.
/// Enough chains to hide the latency: a core needs FMA latency × FMA pipes chains in flight (4 × 2
/// = 8 on Zen 4 and on Intel cores with two FMA ports; fewer with 512-bit ops on Zen 4, which issue
/// one per cycle). With 32 vector registers (AVX-512) 24 chains are used (3× that); with 16 (AVX2)
/// 12 chains plus a and b fill the register file without spilling (1.5×).
inline double fma_peak_flops(int reps = 5, long iters = 2'000'000) {
  using B = dphys::simd::native;
  using R = typename B::register_type;
#if defined(__AVX512F__)
  constexpr int chains = 24;
#else
  constexpr int chains = 12;
#endif
  float sink = 0.0f;
  const double fmas = chain_steps_per_s<chains>(
      reps, iters, [](int c) { return B(1.0f + 0.001f * static_cast<float>(c)).data; },
      R(B(0.9999999f).data), R(B(1e-7f).data),
      [](R acc, R a, R b) { return fused_multiply_add(acc, a, b); },
      [](R acc) { return xsimd::hadd(B(acc)); }, sink);
  // The result is observable: a volatile store cannot be removed. (An earlier
  // `if (sink == 42.0f) std::fputs("", stderr)` was not enough on its own: g++ drops an fputs of an
  // empty string, and with it the whole loop, once nothing else keeps the accumulators alive.)
  volatile float observed = sink;
  static_cast<void>(observed);
  return 2.0 * static_cast<double>(B::size) * fmas;
}

/// The most a SIMD kernel bound by float arithmetic can gain over the scalar instantiation on this
/// core: lane-additions per second of independent chains of native-width adds (lanes_v<native> lanes
/// per add) ÷ those of scalar adds (one lane per add), each timed by chain_steps_per_s.
/// 16 lanes do not make 16×: a core may issue fewer wide adds per cycle than scalar ones (Zen 4
/// executes a 512-bit add on two 256-bit halves and issues one per cycle, but two scalar adds), so
/// this ratio, not the lane count, is the ceiling of `simd ÷ scalar` for arithmetic; loads, stores
/// and the scalar bookkeeping of a kernel (loop counters, index loads, branches) lower it further.
/// Returns {native lane-adds/s, scalar adds/s}; the scalar chains use _mm_add_ss on x86 so that the
/// compiler cannot pack them into vector adds ({native, 0} elsewhere). Checked in g++ 12's code: 12
/// register-to-register adds per iteration for either width. clang 14 adds a register copy per
/// scalar chain, which makes its scalar rate, and so the ratio, vary (7.96–9.90 in three runs here).
inline std::pair<double, double> add_lane_rates(int reps = 5, long iters = 2'000'000) {
  using B = dphys::simd::native;
  using R = typename B::register_type;
  constexpr int chains = 12;  // ≥ add latency × adds per cycle for either width on current cores
  float sink = 0.0f;
  const double vec = chain_steps_per_s<chains>(
      reps, iters, [](int c) { return B(0.001f * static_cast<float>(c)).data; }, R(B(1e-7f).data),
      R(B(1e-7f).data), [](R acc, R, R b) { return (B(acc) + B(b)).data; },
      [](R acc) { return xsimd::hadd(B(acc)); }, sink);
  double scalar = 0.0;
#if defined(__SSE__)
  scalar = chain_steps_per_s<chains>(
      reps, iters, [](int c) { return _mm_set_ss(0.001f * static_cast<float>(c)); },
      _mm_set_ss(1e-7f), _mm_set_ss(1e-7f), [](__m128 acc, __m128, __m128 b) { return _mm_add_ss(acc, b); },
      [](__m128 acc) { return _mm_cvtss_f32(acc); }, sink);
#endif
  volatile float observed = sink;  // keeps the loops alive
  static_cast<void>(observed);
  return {static_cast<double>(B::size) * vec, scalar};
}

/// Floating-point operations per agent-step of the network and plasticity kernel in its dense
/// formulation (what a NumPy/JAX implementation computes; the environment is not counted):
///   observation drive  N·od mul + N·(od−1) add
///   recurrent input    E mul + E add
///   LIF                N·(mul + add + sub)
///   motor readout      N·A mul + N·A add + A bias add
///   plasticity (on)    modulator N mul + N add; per edge λ·e, pre·post, +, η·m·e', w+, w_new−w,
///                      Σ|Δw| (7 flops; the clip and |·| are not counted)
/// The sparse kernel skips the terms of silent neurons, so it executes fewer operations than
/// this; the count is the work a dense implementation of the same step performs.
inline double kernel_flops_per_agent_step(const dphys::experiments::koki2_config& cfg,
                                          std::size_t n_edges, std::size_t obs_dim,
                                          std::size_t actions) {
  const double n = cfg.agent.n_neurons, e = static_cast<double>(n_edges),
               od = static_cast<double>(obs_dim), a = static_cast<double>(actions);
  double f = n * od + n * (od - 1) + 2 * e + 3 * n + 2 * n * a + a;
  if (cfg.plasticity.enabled) f += 2 * n + 7 * e;
  return f;
}

/// The koki2 experiment configuration of a bench workload.
inline dphys::experiments::koki2_config workload(bench_env env, on_off plasticity, int steps) {
  dphys::experiments::koki2_config cfg;
  cfg.env = dphys::envs::chemotaxis_config{};  // koki2 CLI defaults (L0)
  cfg.env.max_steps = steps;
  if (env == bench_env::ladder) {
    cfg.env.num_sources = 4;
    cfg.env.num_bad_sources = 2;
    cfg.env.bad_source_integrity_loss = 0.25f;
    cfg.env.source_deplete = true;
    cfg.env.respawn_delay = 4;
    cfg.env.grad_dropout_p = 0.5f;
  }
  if (plasticity == on_off::on) {
    cfg.plasticity.enabled = true;
    cfg.plasticity.eta = 0.05f;
    cfg.plasticity.lambda = 0.9f;
    cfg.plasticity.kind = dphys::plasticity::modulator::spike;
  }
  return cfg;
}

}  // namespace bench
