// dphys/experiments/koki2_exchange.hpp — genomes cross between dphys and koki2 (spec K12): the
// exporter turns a dphys_koki2 run directory into koki2's artifacts (config.json in koki2's groups
// and names, a koki2-shaped manifest.json, best_genome.npz with the five float32 arrays,
// edge_index.npy, generations.jsonl with koki2's fields); the importer turns a koki2 run directory
// into a dphys run directory that dphys_koki2_eval evaluates. The key mapping is one table
// (koki2_keys); what one side cannot express is reported, never dropped silently.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/utsname.h>

#include <dphys/core/config.hpp>
#include <dphys/experiments/koki2.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/jsonl.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/npz.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/version.hpp>

namespace dphys::experiments {

/// A key of koki2's config.json (`group.key`; `seed` at the top) and the key of koki2_config's
/// JSON form holding the same setting.
struct koki2_key {
  std::string_view koki2;
  std::string_view dphys;
};

/// Every koki2 config.json key copied one to one. Not in the table, because they are computed:
/// `dev_cfg.obs_dim` (4), `dev_cfg.num_actions` (5), `dev_cfg.edge_index` (null, or the edges
/// inline), `dev_cfg.edge_index_shape` ([E, 2]; k_edges = E / n_neurons) and
/// `dev_cfg.modulator_kind` (0 spike, 1 drive, 2 event). The environment's names are those of
/// koki2's ChemotaxisEnvSpec.
inline constexpr auto koki2_keys = std::to_array<koki2_key>({
    {"seed", "seed"},
    {"env_spec.width", "env.width"},
    {"env_spec.height", "env.height"},
    {"env_spec.max_steps", "env.max_steps"},
    {"env_spec.energy_init", "env.energy_init"},
    {"env_spec.energy_decay", "env.energy_decay"},
    {"env_spec.energy_gain", "env.energy_gain"},
    {"env_spec.terminate_on_reach", "env.terminate_on_reach"},
    {"env_spec.num_sources", "env.num_sources"},
    {"env_spec.num_bad_sources", "env.num_bad_sources"},
    {"env_spec.bad_source_integrity_loss", "env.bad_source_integrity_loss"},
    {"env_spec.good_only_gradient", "env.good_only_gradient"},
    {"env_spec.source_deplete", "env.source_deplete"},
    {"env_spec.source_respawn_delay", "env.respawn_delay"},
    {"env_spec.bad_source_respawn_delay", "env.bad_respawn_delay"},
    {"env_spec.bad_source_deplete_p", "env.bad_deplete_p"},
    {"env_spec.obs_noise", "env.obs_noise"},
    {"env_spec.grad_dropout_p", "env.grad_dropout_p"},
    {"env_spec.grad_gain_min", "env.grad_gain.min"},
    {"env_spec.grad_gain_max", "env.grad_gain.max"},
    {"env_spec.grad_gain_start_phi", "env.grad_gain.start"},
    {"env_spec.grad_gain_end_phi", "env.grad_gain.end"},
    {"env_spec.grad_bins_min", "env.grad_bins.min"},
    {"env_spec.grad_bins_max", "env.grad_bins.max"},
    {"env_spec.grad_bins_start_phi", "env.grad_bins.start"},
    {"env_spec.grad_bins_end_phi", "env.grad_bins.end"},
    {"dev_cfg.n_neurons", "agent.n_neurons"},
    {"dev_cfg.topology_seed", "agent.topology_seed"},
    {"dev_cfg.theta", "agent.theta"},
    {"dev_cfg.tau_m", "agent.tau_m"},
    {"dev_cfg.plast_enabled", "plasticity.enabled"},
    {"dev_cfg.plast_eta", "plasticity.eta"},
    {"dev_cfg.plast_lambda", "plasticity.lambda"},
    {"dev_cfg.mod_drive_scale", "plasticity.mod_drive_scale"},
    {"sim_cfg.fitness_alpha", "fitness.alpha"},
    {"sim_cfg.fitness_beta", "fitness.beta"},
    {"sim_cfg.success_bonus", "fitness.success_bonus"},
    {"sim_cfg.setpoint_energy", "fitness.setpoint_energy"},
    {"sim_cfg.setpoint_integrity", "fitness.setpoint_integrity"},
    {"sim_cfg.drive_w_energy", "fitness.drive_w_energy"},
    {"sim_cfg.drive_w_integrity", "fitness.drive_w_integrity"},
    {"eval_cfg.episodes", "rollout.episodes"},
    {"es_cfg.pop_size", "es.pop_size"},
    {"es_cfg.generations", "generations"},
    {"es_cfg.sigma", "es.sigma"},
    {"es_cfg.lr", "es.lr"},
    {"mvt_cfg.enabled", "mvt.enabled"},
    {"mvt_cfg.episodes", "mvt.episodes"},
    {"mvt_cfg.steps", "mvt.steps"},
    {"mvt_cfg.min_alive_steps", "mvt.min_alive_steps"},
    {"mvt_cfg.min_action_entropy", "mvt.min_action_entropy"},
    {"mvt_cfg.min_energy_gained", "mvt.min_energy_gained"},
    {"mvt_cfg.fail_fitness", "mvt.fail_fitness"},
});

/// koki2_config keys that are not settings of the experiment (where and how a run executes), or
/// that the exchange derives (k_edges from E, the edge file): never reported as unexpressed.
inline constexpr auto koki2_exchange_neutral_keys = std::to_array<std::string_view>(
    {"threads", "out", "log_every", "impl", "seeds", "sweep", "agent.k_edges", "agent.edge_file",
     "agent.topology_rng", "rollout.block_lanes", "mean_eval.every", "mean_eval.episodes",
     "mean_eval.seed"});

/// dphys settings that change how koki2 would *evaluate* the genome (the rest of the unexpressed
/// settings change only how it was trained).
inline constexpr auto koki2_exchange_evaluation_keys =
    std::to_array<std::string_view>({"plasticity.w_clip", "plasticity.clamp_modulator",
                                     "plasticity.clamped_value", "rollout.steps"});

/// koki2's own defaults (its CLI `evo-l0`): koki2_config's, with koki2's L0 world instead of the
/// L0.2 rung dphys_koki2 starts on. An imported config.json missing a key keeps these values.
[[nodiscard]] inline koki2_config koki2_defaults() {
  koki2_config c;
  c.env = envs::chemotaxis_config{};
  c.agent.topology_rng = agents::topology_generator::numpy;
  return c;
}

/// What an export or import could not carry over or had to assume, one sentence each.
struct koki2_exchange_report {
  std::vector<std::string> notes;
  std::size_t parameters = 0;
  std::size_t edges = 0;
  std::size_t generations = 0;  ///< generations.jsonl lines written (export)
};

namespace detail::koki2x {

inline const dphys::json* find_path(const dphys::json& j, std::string_view path) {
  const dphys::json* at = &j;
  while (true) {
    const auto dot = path.find('.');
    const auto head = path.substr(0, dot);
    if (!at->is_object() || !at->contains(head)) return nullptr;
    at = &(*at)[head];
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

inline void set_path(dphys::json& j, std::string_view path, dphys::json value) {
  dphys::json* at = &j;
  for (auto dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.')) {
    at = &(*at)[path.substr(0, dot)];
    path.remove_prefix(dot + 1);
  }
  (*at)[path] = std::move(value);
}

inline void flatten(const dphys::json& j, const std::string& prefix,
                    std::map<std::string, dphys::json>& out) {
  if (j.is_object() && (!j.empty() || prefix.empty())) {  // an empty group stays a leaf
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& keys, std::string_view key) {
  for (const auto k : keys)
    if (k == key) return true;
  return false;
}

inline constexpr std::array<std::string_view, 3> modulator_names{"spike", "drive", "event"};

// koki2's DirectGenome arrays as named views of the flat genome (genomes::direct_layout's order),
// with their shapes: obs_w [N, 4], rec_w [E], motor_w [N, 5], motor_b [5], mod_w [N].
template <class T>
struct genome_array {
  std::string_view name;
  std::span<T> values;
  std::vector<std::size_t> shape;
};
template <class T>
std::array<genome_array<T>, 5> genome_arrays(const genomes::direct_genome& g, std::span<T> flat) {
  const auto v = g.views(flat);
  const auto& l = g.layout;
  return {{{"obs_w", v.obs_w, {l.n_neurons, l.obs_dim}},
           {"rec_w", v.rec_w, {l.n_edges}},
           {"motor_w", v.motor_w, {l.n_neurons, l.num_actions}},
           {"motor_b", v.motor_b, {l.num_actions}},
           {"mod_w", v.mod_w, {l.n_neurons}}}};
}

inline genomes::direct_genome koki2_genome(std::size_t n_neurons, std::size_t n_edges) {
  return {genomes::direct_layout{n_neurons, n_edges, 4, 5}};
}

// koki2's own edges for the config's topology seed (NumPy's draw; koki2's rule seed + 12345 if
// unset).
inline agents::topology koki2_draw(const koki2_config& cfg) {
  auto agent = cfg.agent;
  agent.topology_rng = agents::topology_generator::numpy;
  agent.edge_file.clear();
  return agents::topology::make(agent, cfg.seed);
}

// The "platform" object of koki2's manifest (Python's platform module there; uname here).
inline dphys::json platform_json() {
  utsname u{};
  const bool ok = uname(&u) == 0;
  return dphys::json{
      {"platform", ok ? std::string(u.sysname) + "-" + u.release + "-" + u.machine : ""},
      {"machine", ok ? std::string(u.machine) : ""},
      {"processor", ""},
      {"python_implementation", nullptr}};
}

}  // namespace detail::koki2x

/// koki2's config.json for a resolved dphys config (a run's config.json) whose topology has
/// `n_edges` edges. `report->notes` receives each dphys setting koki2 cannot express that differs
/// from koki2's behaviour (koki2_defaults), saying whether it changes evaluation or only training.
[[nodiscard]] inline dphys::json to_koki2_config(const koki2_config& cfg, std::size_t n_edges,
                                                 koki2_exchange_report* report = nullptr) {
  namespace kx = detail::koki2x;
  auto resolved = cfg;
  resolved.env.energy_decay = cfg.env.decay();
  if (resolved.agent.topology_seed < 0)
    resolved.agent.topology_seed = static_cast<std::int64_t>(cfg.seed + 12345u);
  const dphys::json d = to_json(resolved);
  dphys::json k = dphys::json::object();
  for (const auto& key : koki2_keys) kx::set_path(k, key.koki2, *kx::find_path(d, key.dphys));
  k["dev_cfg"]["obs_dim"] = 4;
  k["dev_cfg"]["num_actions"] = 5;
  k["dev_cfg"]["edge_index"] = nullptr;
  k["dev_cfg"]["edge_index_shape"] = dphys::json::array({n_edges, 2});
  k["dev_cfg"]["modulator_kind"] = static_cast<int>(cfg.plasticity.kind);
  k["eval_cfg"]["episodes"] = cfg.rollout.episodes;
  if (report) {
    std::map<std::string, dphys::json> now, koki2_like;
    kx::flatten(d, "", now);
    kx::flatten(to_json(koki2_defaults()), "", koki2_like);
    for (const auto& [key, value] : now) {
      bool mapped = false;
      for (const auto& m : koki2_keys) mapped = mapped || m.dphys == key;
      if (mapped || key == "plasticity.kind" || kx::listed(koki2_exchange_neutral_keys, key) ||
          value == koki2_like[key])
        continue;
      report->notes.push_back(key + " = " + value.dump() + " has no koki2 counterpart (koki2: " +
                              koki2_like[key].dump() + "); " +
                              (kx::listed(koki2_exchange_evaluation_keys, key)
                                   ? "koki2 evaluates the genome differently"
                                   : "it changed only how the genome was trained"));
    }
  }
  return k;
}

/// The dphys config of a koki2 config.json (`source` names it in errors). Keys it lacks keep
/// koki2_defaults(); an unknown key, a value of the wrong type, obs_dim ≠ 4, num_actions ≠ 5, an
/// unknown modulator_kind or an edge count that is not a multiple of n_neurons throws
/// config_error naming the koki2 key. `n_edges` receives E (edge_index_shape), `inline_edges` the
/// edges when dev_cfg.edge_index holds them (koki2 normally writes null). Validated.
[[nodiscard]] inline koki2_config from_koki2_config(
    const dphys::json& k, const std::string& source, std::size_t* n_edges = nullptr,
    std::vector<std::int32_t>* inline_edges = nullptr) {
  namespace kx = detail::koki2x;
  const auto fail = [&](const std::string& key, const dphys::json& v, const std::string& rule) {
    return config_error(key, v.dump(), rule, source);
  };
  if (!k.is_object()) throw fail("", k, "a koki2 config.json is a JSON object");
  std::map<std::string, dphys::json> flat;
  kx::flatten(k, "", flat);
  dphys::json d = dphys::json::object();
  std::optional<std::size_t> edges;
  for (const auto& [key, value] : flat) {
    const koki2_key* m = nullptr;
    for (const auto& c : koki2_keys)
      if (c.koki2 == key) m = &c;
    if (m) {
      // koki2's energy_decay None is its rule energy_init / max_steps: dphys's -1.
      kx::set_path(d, m->dphys,
                   key == "env_spec.energy_decay" && value.is_null() ? dphys::json(-1.0) : value);
    } else if (key == "dev_cfg.obs_dim" || key == "dev_cfg.num_actions") {
      const int want = key == "dev_cfg.obs_dim" ? 4 : 5;
      if (!value.is_number_integer() || value.get<std::int64_t>() != want)
        throw fail(key, value, "must be " + std::to_string(want) + " (koki2's chemotaxis agent)");
    } else if (key == "dev_cfg.modulator_kind") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > 2)
        throw fail(key, value, "0 (spike), 1 (drive) or 2 (event)");
      d["plasticity"]["kind"] = kx::modulator_names[value.get<std::size_t>()];
    } else if (key == "dev_cfg.edge_index_shape") {
      if (!value.is_array() || value.size() != 2 || !value[0].is_number_integer() ||
          value[0].get<std::int64_t>() < 0 || value[1] != dphys::json(2))
        throw fail(key, value, "[E, 2] with E >= 0");
      edges = value[0].get<std::size_t>();
    } else if (key == "dev_cfg.edge_index") {
      if (value.is_null()) continue;
      std::vector<std::int32_t> pairs;
      bool ok = value.is_array();
      for (std::size_t i = 0; ok && i < value.size(); ++i) {
        const dphys::json& p = value[i];
        ok = p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer();
        for (std::size_t j = 0; ok && j < 2; ++j) {
          const auto v = p[j].get<std::int64_t>();
          ok = v >= 0 && v <= std::numeric_limits<std::int32_t>::max();
          pairs.push_back(static_cast<std::int32_t>(v));
        }
      }
      if (!ok) throw fail(key, dphys::json("..."), "null or a list of [src, dst] integer pairs");
      if (inline_edges) *inline_edges = std::move(pairs);
      if (!edges) edges = value.size();
    } else if (value.is_object() && value.empty() &&
               (key == "env_spec" || key == "dev_cfg" || key == "sim_cfg" || key == "eval_cfg" ||
                key == "es_cfg" || key == "mvt_cfg")) {
      continue;                             // an empty group: koki2's defaults
    } else if (key == "dev_cfg.k_edges") {  // koki2's DevConfig field, when present
      d["agent"]["k_edges"] = value;
    } else {
      std::string known;
      for (const auto& c : koki2_keys) known += std::string(known.empty() ? "" : ", ") += c.koki2;
      throw fail(key, value,
                 "unknown koki2 key; known: " + known +
                     ", dev_cfg.obs_dim, dev_cfg.num_actions, dev_cfg.modulator_kind, "
                     "dev_cfg.edge_index, dev_cfg.edge_index_shape, dev_cfg.k_edges");
    }
  }
  koki2_config cfg = koki2_defaults();
  try {
    from_json(d, cfg);
  } catch (const config_error& e) {
    std::string key = e.field;  // name the koki2 key the value came from
    for (const auto& c : koki2_keys)
      if (c.dphys == e.field) key = std::string(c.koki2) + " (dphys " + e.field + ")";
    throw config_error(key, e.value, e.rule, source);
  }
  const auto n = static_cast<std::size_t>(std::max(cfg.agent.n_neurons, 1));
  if (edges) {
    if (*edges % n != 0)
      throw fail("dev_cfg.edge_index_shape", dphys::json::array({*edges, 2}),
                 "E must be a multiple of n_neurons (" + std::to_string(n) + "): E = N·k");
    if (*edges / n > 4096)
      throw fail("dev_cfg.edge_index_shape", dphys::json::array({*edges, 2}),
                 "E / n_neurons = k must be <= 4096 (agent.k_edges)");
    cfg.agent.k_edges = static_cast<int>(*edges / n);
  }
  if (n_edges)
    *n_edges = edges.value_or(
        n * static_cast<std::size_t>(std::min<int>(cfg.agent.k_edges, cfg.agent.n_neurons - 1)));
  validate(cfg);
  return cfg;
}

/// Writes koki2's artifacts of the dphys_koki2 run in `from` into the new directory `to`:
/// config.json (koki2's groups and names, 2-space indent, sorted keys), manifest.json (koki2's
/// keys: created_at_utc, seed, config, git_commit, python, platform, jax, plus `exported_by`),
/// best_genome.npz (obs_w, rec_w, motor_w, motor_b, mod_w, float32), edge_index.npy (int32 [E, 2];
/// a note says when these are not koki2's own draw from topology_seed, i.e. unless the run used
/// agent.topology_rng = numpy) and generations.jsonl (koki2's five fields). Refuses a `to` that
/// holds a config.json. Throws config_error, run::io_error or run::format_error naming the file and
/// the problem.
inline koki2_exchange_report export_koki2_run(const std::filesystem::path& from,
                                              const std::filesystem::path& to) {
  namespace kx = detail::koki2x;
  koki2_exchange_report report;
  const auto cfg = from_json_file<koki2_config>(from / "config.json");
  validate(cfg);
  const auto genome = run::load_npy<float>(from / "best_genome.npy");
  const auto n = static_cast<std::size_t>(cfg.agent.n_neurons);
  const auto topo = agents::topology::from_npy(from / "edge_index.npy", n);
  const std::size_t e = topo.size();
  const auto direct = kx::koki2_genome(n, e);
  if (genome.data.size() != direct.size())
    throw run::format_error(
        (from / "best_genome.npy").string() + ": " + std::to_string(genome.data.size()) +
        " parameters, but N = " + std::to_string(n) + " neurons with E = " + std::to_string(e) +
        " edges need " + std::to_string(direct.size()));
  report.parameters = genome.data.size();
  report.edges = e;

  const dphys::json k = to_koki2_config(cfg, e, &report);
  if (topo != kx::koki2_draw(cfg))
    report.notes.push_back(
        "the edges are not koki2's draw from dev_cfg.topology_seed (the run used " +
        std::string(cfg.agent.edge_file.empty() ? "agent.topology_rng = counter"
                                                : "agent.edge_file") +
        "): koki2 must load edge_index.npy");
  run::npz_archive npz;
  for (const auto& a : kx::genome_arrays(direct, std::span<const float>(genome.data)))
    npz.add<float>(std::string(a.name), a.values, a.shape);
  std::string lines;
  if (std::filesystem::exists(from / "generations.jsonl"))
    for (const auto& rec : run::read_jsonl(from / "generations.jsonl")) {
      dphys::json line = dphys::json::object();
      for (const char* f :
           {"generation", "best_fitness", "mean_fitness", "median_fitness", "mvt_pass_rate"})
        line[f] = rec.contains(f) ? rec[f] : dphys::json(nullptr);
      lines += line.dump() + "\n";
      ++report.generations;
    }

  dphys::json source_manifest = dphys::json::object();
  if (std::filesystem::exists(from / "manifest.json"))
    source_manifest = dphys::detail::read_json_file(from / "manifest.json");
  dphys::json config_without_seed = k;
  config_without_seed.erase("seed");
  dphys::json exported_by{
      {"library", "dphys"},
      {"version", std::string(version_string)},
      {"git_describe", std::string(run::git_describe)},
      {"source_run", from.string()},
      {"source_library_version", source_manifest.value("library_version", "")},
      {"source_git_describe", source_manifest.value("git_describe", "")},
      {"notes", report.notes},
  };
  const dphys::json manifest{
      {"created_at_utc", run::utc_now_iso8601()},
      {"seed", cfg.seed},
      {"config", config_without_seed},
      {"git_commit", source_manifest.value("git_describe", "")},
      {"python", nullptr},
      {"jax", nullptr},
      {"platform", kx::platform_json()},
      {"exported_by", exported_by},
  };

  auto rd = run::run_directory::create(to);  // refuses a directory holding a run
  npz.save(rd.file("best_genome.npz"));
  run::save_npy(rd.file("edge_index.npy"), topo.edge_index(), {e, 2});
  if (report.generations > 0) run::write_file_atomic(rd.file("generations.jsonl"), lines);
  rd.write_manifest(manifest);
  rd.write_config(k);  // last: its presence marks a complete export
  return report;
}

/// Writes a dphys run directory `to` (config.json, best_genome.npy, edge_index.npy, manifest.json)
/// from the koki2 run directory `from` (config.json, or manifest.json's config and seed;
/// best_genome.npz). koki2 does not save its edge list; the edges are read from `edges` if given
/// (.npy of int32/int64 [E, 2], or text "src dst" lines), else from `from`/edge_index.npy, else
/// from config.json's inline dev_cfg.edge_index, and otherwise drawn from dev_cfg.topology_seed as
/// koki2 draws them (agent.topology_rng = numpy: the same edges, bit for bit). Edges that differ
/// from that draw are read back through agent.edge_file, the absolute path of `to`/edge_index.npy.
/// Throws config_error, run::io_error or run::format_error.
inline koki2_exchange_report import_koki2_run(const std::filesystem::path& from,
                                              const std::filesystem::path& to,
                                              const std::filesystem::path& edges_file = {}) {
  namespace kx = detail::koki2x;
  koki2_exchange_report report;
  dphys::json k;
  std::string source = (from / "config.json").string();
  if (std::filesystem::exists(from / "config.json")) {
    k = dphys::detail::read_json_file(from / "config.json");
  } else {
    source = (from / "manifest.json").string();
    const dphys::json m = dphys::detail::read_json_file(from / "manifest.json");
    if (!m.is_object() || !m.contains("config") || !m.contains("seed"))
      throw config_error("", "", "neither config.json nor a manifest with config and seed",
                         from.string());
    k = m["config"];
    if (k.is_object()) k["seed"] = m["seed"];
  }
  std::size_t e = 0;
  std::vector<std::int32_t> inline_edges;
  auto cfg = from_koki2_config(k, source, &e, &inline_edges);
  const auto n = static_cast<std::size_t>(cfg.agent.n_neurons);

  // koki2's own draw from topology_seed (cfg.agent.topology_rng is numpy, koki2's generator).
  const auto koki2_edges = kx::koki2_draw(cfg);
  std::string edges_source = from.string();
  agents::topology topo;
  if (!edges_file.empty()) {
    topo = agents::topology::from_file(edges_file, n);
    edges_source = edges_file.string();
  } else if (std::filesystem::exists(from / "edge_index.npy")) {
    topo = agents::topology::from_npy(from / "edge_index.npy", n);
  } else if (!inline_edges.empty()) {
    topo.n_neurons = n;
    for (std::size_t i = 0; i < inline_edges.size(); i += 2)
      topo.add_checked(inline_edges[i], inline_edges[i + 1],
                       source + ": dev_cfg.edge_index row " + std::to_string(i / 2));
  } else {
    topo = koki2_edges;
    report.notes.push_back(
        "no edge list given: the edges are koki2's NumPy draw from "
        "dev_cfg.topology_seed = " +
        std::to_string(cfg.agent.topology_seed) + " (agent.topology_rng = numpy)");
  }
  if (topo.size() != e)
    throw run::format_error(edges_source + ": " + std::to_string(topo.size()) +
                            " edges, but config.json's edge_index_shape says " + std::to_string(e));

  const auto npz = run::npz_archive::load(from / "best_genome.npz");
  const auto direct = kx::koki2_genome(n, e);
  std::vector<float> genome(direct.size());
  const auto arrays = kx::genome_arrays(direct, std::span<float>(genome));
  for (const auto& a : arrays) {
    const auto arr = npz.get<float>(a.name);
    if (arr.shape != a.shape)
      throw run::format_error((from / "best_genome.npz").string() + ": " + std::string(a.name) +
                              " has shape " + run::detail::shape_str(arr.shape) + ", expected " +
                              run::detail::shape_str(a.shape) + " (N = " + std::to_string(n) +
                              ", E = " + std::to_string(e) + ")");
    std::ranges::copy(arr.data, a.values.begin());
  }
  for (const auto& m : npz.members())
    if (std::ranges::none_of(arrays, [&](const auto& a) { return a.name == m.name; }))
      report.notes.push_back("best_genome.npz: array '" + m.name + "' ignored");
  report.parameters = genome.size();
  report.edges = e;

  auto rd = run::run_directory::create(to);  // refuses a directory holding a run
  // Edges other than koki2's draw from the seed are read from the run directory's own copy.
  if (topo != koki2_edges)
    cfg.agent.edge_file = std::filesystem::absolute(rd.file("edge_index.npy")).string();
  cfg.out = to.string();
  run::save_npy(rd.file("edge_index.npy"), topo.edge_index(), {e, 2});
  rd.add_artifact("edge_index.npy");
  rd.save_best_genome(genome, {genome.size()});
  rd.write_config(resolved_config_json(cfg, to));
  run::manifest_info info;
  info.library_version = std::string(version_string);
  info.seed = cfg.seed;
  info.git_describe = std::string(run::git_describe);
  info.build_flags = std::string(run::build_flags);
  info.extra = {{"experiment", "koki2"},
                {"imported_from", from.string()},
                {"imported_config", source},
                {"notes", report.notes}};
  rd.finalize(run::make_manifest(info));
  return report;
}

}  // namespace dphys::experiments
