// dphys/curiosity/curriculum.hpp — curriculum sampling over environment templates (spec N6, N7):
// seeded template choice, every instance reproducible from (template, seed) and catalogued with
// the sha256 of its parameters; template weights uniform, static, from telemetry (Nerion's
// w_t = clamp((1 − f_t) + 0.5·d_t/d̄, 0.5, 3)) or surprise-weighted; Nerion's metrics summary.
// Extension point: a template is any callable Params(std::uint64_t seed) — chemotaxis rungs, N-body
// initial conditions, a user's simulator settings.
//
// Determinism: draw(n, tick) is a pure function of (seed, tick, policy state); instance seeds are
//   hashes of (sampler seed, template id, tick, slot). generate(seed) must be pure.
// Thread safety: const members may run concurrently; draw/observe need exclusive access.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dphys/core/json.hpp>

#include <dphys/core/config.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/curiosity/replay.hpp>
#include <dphys/curiosity/sampling.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/sha256.hpp>

namespace dphys::curiosity {

/// How the sampler weighs templates.
enum class curriculum_policy { uniform, static_weights, telemetry, surprise_weighted };
constexpr auto enum_names(curriculum_policy) {
  return std::array{
      std::pair{curriculum_policy::uniform, std::string_view{"uniform"}},
      std::pair{curriculum_policy::static_weights, std::string_view{"static_weights"}},
      std::pair{curriculum_policy::telemetry, std::string_view{"telemetry"}},
      std::pair{curriculum_policy::surprise_weighted, std::string_view{"surprise_weighted"}}};
}

/// How fresh scenarios are chosen.
enum class scenario_policy {
  uniform,            ///< templates (rungs) uniformly, no replay (the baseline)
  surprise_weighted,  ///< templates by surprise-weighted curriculum, plus replay of surprising ones
  curiosity           ///< templates by the curiosity selector over the predictor, plus replay
};
constexpr auto enum_names(scenario_policy) {
  return std::array{
      std::pair{scenario_policy::uniform, std::string_view{"uniform"}},
      std::pair{scenario_policy::surprise_weighted, std::string_view{"surprise_weighted"}},
      std::pair{scenario_policy::curiosity, std::string_view{"curiosity"}}};
}

/// Surprise-weighted template weights: w_t = floor + m_t^power with m_t an exponential moving
/// average of the surprises seen on template t (m_t = prior until the first one); probabilities
/// mix the normalised weights with the uniform distribution: p_t = (1 − uniform_mix)·w_t/Σw +
/// uniform_mix/T, so no template is ever starved.
struct surprise_weighting_config {
  double prior = 1.0;  ///< m_t before any observation (>= typical surprises: unseen is interesting)
  double rate = 0.3;   ///< EMA step: m ← m + rate·(s − m)
  double floor = 0.05;
  double power = 1.0;
  double uniform_mix = 0.1;

  void check(config_checker<surprise_weighting_config>& c) const {
    c(&surprise_weighting_config::prior).at_least(0.0);
    c(&surprise_weighting_config::rate).greater_than(0.0).at_most(1.0);
    c(&surprise_weighting_config::floor).at_least(0.0);
    c(&surprise_weighting_config::power).greater_than(0.0);
    c(&surprise_weighting_config::uniform_mix).in_range(0.0, 1.0);
  }
};

struct curriculum_config {
  curriculum_policy policy = curriculum_policy::uniform;
  std::uint64_t seed = 0;
  surprise_weighting_config surprise{};
};

}  // namespace dphys::curiosity

DPHYS_ADAPT_STRUCT(dphys::curiosity::surprise_weighting_config, prior, rate, floor, power,
                   uniform_mix);
DPHYS_ADAPT_STRUCT(dphys::curiosity::curriculum_config, policy, seed, surprise);

namespace dphys::curiosity {

/// One telemetry event: a task of `template_id` was generated in `duration` seconds.
struct telemetry_event {
  std::string template_id;
  double duration = 0;
};

/// Nerion's telemetry weights: f_t = events of t / all events, d_t = mean duration of t, d̄ = mean
/// duration of all events; w_t = clamp((1 − f_t) + 0.5·d_t/d̄, lo, hi). A template without events
/// has f_t = 0 and d_t = d̄ (1.5 with the default bounds). No events at all (or d̄ = 0): every weight
/// is 1.
inline std::vector<double> telemetry_weights(std::span<const std::string> template_ids,
                                             std::span<const telemetry_event> events,
                                             double lo = 0.5, double hi = 3.0) {
  std::vector<double> w(template_ids.size(), 1.0);
  if (events.empty()) return w;
  double total = 0.0;
  for (const auto& e : events) total += e.duration;
  const double n = static_cast<double>(events.size()), mean = total / n;
  if (!(mean > 0.0)) return w;
  for (std::size_t t = 0; t < template_ids.size(); ++t) {
    double count = 0.0, dur = 0.0;
    for (const auto& e : events)
      if (e.template_id == template_ids[t]) {
        count += 1.0;
        dur += e.duration;
      }
    const double f = count / n, d = count > 0.0 ? dur / count : mean;
    w[t] = std::clamp((1.0 - f) + 0.5 * d / mean, lo, hi);
  }
  return w;
}

/// The EMA state of the surprise-weighted policy.
class surprise_weights {
 public:
  surprise_weights(std::size_t templates, surprise_weighting_config cfg)
      : cfg_(cfg), ema_(templates, cfg.prior), count_(templates, 0) {}

  void observe(std::size_t t, double surprise) {
    if (!std::isfinite(surprise) || surprise < 0.0)
      throw std::invalid_argument("surprise_weights::observe: surprise = " +
                                  std::to_string(surprise) + ": must be finite and >= 0");
    ema_.at(t) += cfg_.rate * (surprise - ema_[t]);
    ++count_[t];
  }
  [[nodiscard]] std::span<const double> ema() const { return ema_; }
  [[nodiscard]] std::span<const std::uint64_t> counts() const { return count_; }

  /// Sampling probabilities (they sum to 1).
  [[nodiscard]] std::vector<double> probabilities() const {
    const std::size_t T = ema_.size();
    std::vector<double> w(T);
    double s = 0.0;
    for (std::size_t t = 0; t < T; ++t) s += w[t] = cfg_.floor + std::pow(ema_[t], cfg_.power);
    for (auto& x : w)
      x = (1.0 - cfg_.uniform_mix) * (s > 0.0 ? x / s : 1.0 / static_cast<double>(T)) +
          cfg_.uniform_mix / static_cast<double>(T);
    return w;
  }

  void save(state_writer& w) const {
    w.put("ema", ema_);
    w.put("count", count_);
  }
  void load(state_reader& r) {
    r.get("ema", ema_, ema_.size());
    r.get("count", count_, count_.size());
  }

 private:
  surprise_weighting_config cfg_;
  std::vector<double> ema_;
  std::vector<std::uint64_t> count_;
};

/// An environment template: an id, a static weight and a pure generator Params(seed).
template <class Params>
struct env_template {
  std::string id;
  std::function<Params(std::uint64_t seed)> generate;
  double weight = 1.0;
};

/// A catalogued instance: the template, the seed, the parameters it generates and their sha256.
struct instance_manifest {
  std::size_t template_index = 0;
  std::string template_id;
  std::uint64_t seed = 0;
  std::uint64_t tick = 0;  ///< when it was drawn (e.g. the generation)
  dphys::json parameters;
  std::string checksum;  ///< sha256 of parameters.dump() (compact, keys sorted)

  [[nodiscard]] dphys::json to_json() const {
    return {{"template", template_id}, {"template_index", template_index}, {"seed", seed},
            {"tick", tick},          {"parameters", parameters},        {"checksum", checksum}};
  }
};

/// JSON of a template's parameters: the reflected-config JSON for dphys configs, else
/// dphys::json(p) (provide to_json for your type).
template <class Params>
dphys::json parameters_json(const Params& p) {
  if constexpr (reflected_config<Params>)
    return to_json(p);
  else
    return dphys::json(p);
}

/// sha256 of the compact dump of a JSON value (object keys sorted by dphys::json).
inline std::string checksum_of(const dphys::json& j) { return run::sha256_hex(j.dump()); }

/// The seed of slot `slot` drawn at `tick` from template `id`: a hash of all four.
inline std::uint64_t instance_seed(std::uint64_t sampler_seed, std::string_view id,
                                   std::uint64_t tick, std::uint64_t slot) {
  using detail::rng::mix64;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ull;
  return mix64(mix64(mix64(sampler_seed ^ h) + tick) ^ (slot * 0x9e3779b97f4a7c15ull));
}

template <class Params>
class curriculum_sampler {
 public:
  curriculum_sampler(std::vector<env_template<Params>> templates, curriculum_config cfg = {})
      : templates_(std::move(templates)), cfg_(cfg), surprise_(templates_.size(), cfg.surprise),
        telemetry_(templates_.size(), 1.0) {
    validate(cfg_);
    if (templates_.empty())
      throw std::invalid_argument("curriculum_sampler: no templates (need at least one)");
    for (std::size_t i = 0; i < templates_.size(); ++i) {
      if (templates_[i].id.empty() || !templates_[i].generate)
        throw std::invalid_argument("curriculum_sampler: template " + std::to_string(i) +
                                    " needs a non-empty id and a generator");
      if (!(templates_[i].weight >= 0.0) || !std::isfinite(templates_[i].weight))
        throw std::invalid_argument("curriculum_sampler: template '" + templates_[i].id +
                                    "' weight = " + std::to_string(templates_[i].weight) +
                                    ": must be finite and >= 0");
      for (std::size_t j = 0; j < i; ++j)
        if (templates_[j].id == templates_[i].id)
          throw std::invalid_argument("curriculum_sampler: template id '" + templates_[i].id +
                                      "' is used twice");
    }
  }

  [[nodiscard]] std::size_t size() const { return templates_.size(); }
  [[nodiscard]] const env_template<Params>& at(std::size_t t) const { return templates_.at(t); }
  [[nodiscard]] const curriculum_config& config() const { return cfg_; }
  [[nodiscard]] std::span<const instance_manifest> catalog() const { return catalog_; }
  [[nodiscard]] const surprise_weights& surprise_state() const { return surprise_; }

  [[nodiscard]] std::vector<std::string> ids() const {
    std::vector<std::string> v;
    for (const auto& t : templates_) v.push_back(t.id);
    return v;
  }

  /// Replaces the telemetry weights (policy telemetry) with Nerion's formula over `events`.
  void set_telemetry(std::span<const telemetry_event> events) {
    const auto names = ids();
    telemetry_ = telemetry_weights(names, events);
  }
  /// Feeds one surprise observed on template t (policy surprise_weighted).
  void observe_surprise(std::size_t t, double surprise) { surprise_.observe(t, surprise); }

  /// The current sampling probabilities over templates.
  [[nodiscard]] std::vector<double> probabilities() const {
    const std::size_t T = templates_.size();
    std::vector<double> w(T, 1.0);
    switch (cfg_.policy) {
      case curriculum_policy::uniform:
        break;
      case curriculum_policy::static_weights:
        for (std::size_t t = 0; t < T; ++t) w[t] = templates_[t].weight;
        break;
      case curriculum_policy::telemetry:
        w = telemetry_;
        break;
      case curriculum_policy::surprise_weighted:
        return surprise_.probabilities();
    }
    const auto c = cumulative_weights(w, "curriculum_sampler");
    for (auto& x : w) x /= c.back();
    return w;
  }

  /// Draws n instances at `tick` and appends them to the catalog.
  std::vector<instance_manifest> draw(std::size_t n, std::uint64_t tick) {
    const auto p = probabilities();
    const auto c = cumulative_weights(p, "curriculum_sampler");
    const auto key = make_key(cfg_.seed, draw_purpose::curriculum, static_cast<std::uint32_t>(tick));
    std::vector<instance_manifest> out;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t t =
          categorical(c, uniform01(key, static_cast<std::uint32_t>(tick >> 32), 0,
                                   static_cast<std::uint32_t>(i)));
      out.push_back(make(t, instance_seed(cfg_.seed, templates_[t].id, tick, i), tick));
      catalog_.push_back(out.back());
    }
    return out;
  }

  /// Draws the instance of a template chosen by the caller (e.g. a curiosity selector) for slot
  /// `slot` at `tick`, with the seed draw() would give it, and catalogues it.
  instance_manifest draw_template(std::size_t t, std::uint64_t tick, std::uint64_t slot) {
    auto m = make(t, instance_seed(cfg_.seed, templates_.at(t).id, tick, slot), tick);
    catalog_.push_back(m);
    return m;
  }

  /// The instance of template t with a given seed (not catalogued): same parameters and checksum
  /// every time.
  [[nodiscard]] instance_manifest make(std::size_t t, std::uint64_t seed,
                                       std::uint64_t tick = 0) const {
    instance_manifest m;
    m.template_index = t;
    m.template_id = templates_.at(t).id;
    m.seed = seed;
    m.tick = tick;
    m.parameters = parameters_json(templates_[t].generate(seed));
    m.checksum = checksum_of(m.parameters);
    return m;
  }
  /// Regenerates the parameters of a catalogued instance.
  [[nodiscard]] Params regenerate(const instance_manifest& m) const {
    return templates_.at(m.template_index).generate(m.seed);
  }

  void save_catalog_jsonl(const std::filesystem::path& file) const {
    std::string text;
    for (const auto& m : catalog_) text += m.to_json().dump() + "\n";
    run::write_file_atomic(file, text);
  }

  void save(state_writer& w) const {
    surprise_.save(w);
    w.put("telemetry", telemetry_);
    std::string text;
    for (const auto& m : catalog_) text += m.to_json().dump() + "\n";
    w.put("catalog", text);
  }
  void load(state_reader& r) {
    surprise_.load(r);
    r.get("telemetry", telemetry_, telemetry_.size());
    std::string text;
    r.get("catalog", text);
    catalog_.clear();
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const auto j = dphys::json::parse(std::string_view(text).substr(pos, nl - pos));
      instance_manifest m;
      m.template_id = j.at("template").get<std::string>();
      m.template_index = j.at("template_index").get<std::size_t>();
      m.seed = j.at("seed").get<std::uint64_t>();
      m.tick = j.at("tick").get<std::uint64_t>();
      m.parameters = j.at("parameters");
      m.checksum = j.at("checksum").get<std::string>();
      catalog_.push_back(std::move(m));
      pos = nl == std::string::npos ? text.size() : nl + 1;
    }
  }

 private:
  std::vector<env_template<Params>> templates_;
  curriculum_config cfg_;
  surprise_weights surprise_;
  std::vector<double> telemetry_;
  std::vector<instance_manifest> catalog_;
};

/// Nerion's metrics summary: total tasks, tasks per template, replay status counts, average
/// surprise over experiences that have one, mean generation duration, number of generation runs.
inline dphys::json metrics_summary(std::span<const instance_manifest> catalog,
                                      const replay_buffer& replay,
                                      std::span<const telemetry_event> generation_runs = {}) {
  std::map<std::string, std::uint64_t> per_template;
  for (const auto& m : catalog) ++per_template[m.template_id];
  dphys::json status = {{"pending", 0}, {"solved", 0}, {"failed", 0}};
  double s = 0.0;
  std::size_t with = 0;
  for (const auto& e : replay.entries()) {
    status[std::string(enum_name(e.status))] = status[std::string(enum_name(e.status))].get<int>() + 1;
    if (e.surprise) {
      s += *e.surprise;
      ++with;
    }
  }
  double dur = 0.0;
  for (const auto& e : generation_runs) dur += e.duration;
  return {{"total_tasks", catalog.size()},
          {"tasks_per_template", per_template},
          {"replay_status_counts", status},
          {"average_surprise",
           with ? dphys::json(s / static_cast<double>(with)) : dphys::json(nullptr)},
          {"mean_generation_duration",
           generation_runs.empty()
               ? dphys::json(nullptr)
               : dphys::json(dur / static_cast<double>(generation_runs.size()))},
          {"generation_runs", generation_runs.size()}};
}

}  // namespace dphys::curiosity
