// bench_workload.hpp — the workload shared by dphys's benches and ../shared/peers: `l0` = koki2's CLI
// defaults; `ladder` = 4 sources, 2 bad (integrity loss 0.25), depletion with respawn delay 4, gradient
// dropout 0.5; plasticity on = spike modulator, η 0.05, λ 0.9 (koki2's Stage-2 condition).
#pragma once

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ctime>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/experiments/koki2.hpp>

namespace bench {

/// CPU seconds consumed by this process (all threads). On a loaded machine, agent-steps per CPU
/// second of a 1-thread run is a steadier figure than per wall-clock second; both are printed.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
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

/// Applies the command line to a bench config whose `config` field is a bench_env. The generic
/// reader treats `--config=X` as a JSON file name, so `--config=l0|ladder` (or `--config l0`) is taken
/// here first; everything else goes through dphys::apply_overrides.
template <class BenchConfig>
void apply_bench_arguments(BenchConfig& bc, int argc, char** argv) {
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
