// Reliability (issue 7): checkpoint and exact resume (run/checkpoint.hpp, openai_es save/load,
// run_koki2 --resume), atomic artifacts under a full disk, the bad-input matrix of docs/errors.md
// (one TEST_CASE per row, named "bad input: <row>"), and the replay of the committed fuzz corpora
// and crash regressions (tests/fuzz/). The SIGKILL test and the golden runs are CTest scripts
// (tests/reliability/).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <dphys/core/config.hpp>
#include <dphys/core/state_io.hpp>
#include <dphys/experiments/koki2.hpp>
#include <dphys/run/checkpoint.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/search/openai_es.hpp>

#include "fuzz/fuzz_targets.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
namespace rn = dphys::run;
using dphys::experiments::koki2_config;

namespace {

using scratch_dir = dphys_test::temp_dir;
using dphys_test::file_size_limit;
using dphys_test::message_of;

// A tiny but non-trivial koki2 run (few ms per generation).
koki2_config tiny_koki2() {
  koki2_config c;
  c.generations = 6;
  c.es.pop_size = 16;
  c.rollout.episodes = 2;
  c.env.max_steps = 32;
  c.seed = 11;
  return c;
}

std::string without_timing(const std::string& jsonl) {
  std::string out;
  std::size_t pos = 0;
  while (pos < jsonl.size()) {
    std::size_t nl = jsonl.find('\n', pos);
    if (nl == std::string::npos) nl = jsonl.size();
    auto rec = dphys::json::parse(jsonl.substr(pos, nl - pos));
    rec.erase("timing");
    out += rec.dump() + "\n";
    pos = nl + 1;
  }
  return out;
}

// A toy separable objective as a crucible (for strategy-level tests without rollouts).
struct sphere_crucible {
  std::size_t dim = 5;
  [[nodiscard]] std::size_t genome_size() const { return dim; }
  struct result {
    std::vector<float> fitness;
  };
  result evaluate(std::span<const float> pop, const dphys::crucibles::rollout_keys&) const {
    result r;
    for (std::size_t i = 0; i < pop.size() / dim; ++i) {
      float s = 0;
      for (std::size_t j = 0; j < dim; ++j)
        s -= (pop[i * dim + j] - 1.0f) * (pop[i * dim + j] - 1.0f);
      r.fitness.push_back(s);
    }
    return r;
  }
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// openai_es save/load

TEST_CASE("openai_es save/load continues bit for bit (sgd, adam, antithetic)") {
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    dphys::search::openai_es_config c;
    c.pop_size = 8;
    if (variant == 1) c.optimizer = dphys::search::es_optimizer::adam;
    if (variant == 2) c.antithetic = true;
    const std::vector<float> mean0(5, 0.25f);
    sphere_crucible cruc;
    dphys::search::openai_es ref(c, mean0, 9), first(c, mean0, 9);
    dphys::evolve(ref, cruc, dphys::evolve_options{7, 9});
    dphys::evolve(first, cruc, dphys::evolve_options{3, 9});
    dphys::state_writer w;
    first.save(w);
    dphys::search::openai_es resumed(c, mean0, 9);
    dphys::state_reader r(w.bytes(), "mem");
    resumed.load(r);
    r.expect_end();
    CHECK(resumed.generation() == 3);
    dphys::evolve(resumed, cruc, dphys::evolve_options{7, 9});
    REQUIRE(resumed.mean().size() == ref.mean().size());
    CHECK(std::equal(resumed.mean().begin(), resumed.mean().end(), ref.mean().begin()));
    CHECK(std::equal(resumed.best().begin(), resumed.best().end(), ref.best().begin()));
    CHECK(std::bit_cast<std::uint32_t>(resumed.best_fitness()) ==
          std::bit_cast<std::uint32_t>(ref.best_fitness()));
    dphys::state_writer a, b;
    ref.save(a);
    resumed.save(b);
    CHECK(a.bytes() == b.bytes());
  }
}

TEST_CASE("openai_es save refuses mid-generation, load refuses another dimension or strategy") {
  dphys::search::openai_es es({}, std::vector<float>(3, 0.0f), 1);
  (void)es.ask();
  dphys::state_writer w;
  CHECK_THROWS_AS(es.save(w), std::logic_error);

  dphys::search::openai_es small({}, std::vector<float>(3, 0.0f), 1);
  dphys::state_writer ok;
  small.save(ok);
  dphys::search::openai_es big({}, std::vector<float>(4, 0.0f), 1);
  dphys::state_reader r(ok.bytes(), "ck");
  const auto msg = message_of<dphys::state_error>([&] { big.load(r); });
  CHECK_CONTAINS(msg, "dimension");
  CHECK(big.generation() == 0);

  dphys::state_writer other;
  other.put("kind", std::string_view("cma_es"));
  dphys::state_reader r2(other.bytes(), "ck2");
  CHECK_CONTAINS(message_of<dphys::state_error>([&] { small.load(r2); }), "'cma_es'");
}

// ----------------------------------------------------------------------------------------------
// checkpoint.hpp building blocks

TEST_CASE("checkpoint file names") {
  CHECK(rn::checkpoint_file_name(0) == "gen_000000.ckpt");
  CHECK(rn::checkpoint_file_name(1234567) == "gen_1234567.ckpt");
  CHECK(rn::parse_checkpoint_file_name("gen_000042.ckpt") == 42u);
  CHECK(rn::parse_checkpoint_file_name("gen_4294967295.ckpt") == 4294967295u);
  CHECK_FALSE(rn::parse_checkpoint_file_name("gen_42.ckpt"));
  CHECK_FALSE(rn::parse_checkpoint_file_name("gen_00004x.ckpt"));
  CHECK_FALSE(rn::parse_checkpoint_file_name(".gen_000042.ckpt.tmp.1.0"));
  CHECK_FALSE(rn::parse_checkpoint_file_name("gen_9999999999.ckpt"));
}

TEST_CASE("config_diff names every differing leaf with both values") {
  const auto a = dphys::json::parse(R"({"a":1,"b":{"c":2,"d":[1,2]},"e":"x"})");
  const auto b = dphys::json::parse(R"({"a":1,"b":{"c":3,"d":[1,2,3]},"f":true})");
  const auto d = rn::config_diff(a, b);
  REQUIRE(d.size() == 4);
  CHECK(d[0].key == "b.c");
  CHECK(d[0].before == 2);
  CHECK(d[0].after == 3);
  CHECK(d[1].key == "b.d");
  CHECK(d[2].key == "e");
  CHECK(d[2].after.is_null());
  CHECK(d[3].key == "f");
  CHECK(rn::config_diff(a, a).empty());
}

TEST_CASE("checkpoint_writer keeps the newest K, find_resume_point skips corrupt ones") {
  scratch_dir dir;
  auto rd = rn::run_directory::create(dir / "run");
  rd.write_config({{"x", 1}});
  dphys::search::openai_es es({}, std::vector<float>(3, 0.5f), 4);
  sphere_crucible cruc{3};
  rn::checkpoint_writer ck(rd, {1, 2}, R"({"x":1})", 5);
  auto log = [&](const dphys::generation_record& r, const auto&) {
    rd.generations().append(r.to_json());
  };
  dphys::evolve(es, cruc, dphys::evolve_options{5, 4}, log, ck);
  const fs::path cdir = dir / "run" / "checkpoints";
  CHECK(files_in(cdir) == std::vector<std::string>{"gen_000004.ckpt", "gen_000005.ckpt"});

  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  auto p = rn::find_resume_point(dir / "run", warn);
  REQUIRE(p);
  CHECK(p->generation == 5);
  CHECK(warnings.empty());
  CHECK(p->log_bytes == fs::file_size(dir / "run" / "generations.jsonl"));

  SUBCASE("a corrupt newest checkpoint is skipped with a warning naming it") {
    auto bytes = rn::read_file(cdir / "gen_000005.ckpt");
    bytes[bytes.size() / 2] ^= 1;
    rn::write_file_atomic(cdir / "gen_000005.ckpt", bytes);
    p = rn::find_resume_point(dir / "run", warn);
    REQUIRE(p);
    CHECK(p->generation == 4);
    REQUIRE(warnings.size() == 1);
    CHECK_CONTAINS(warnings[0], "gen_000005.ckpt");
    CHECK_CONTAINS(warnings[0], "checksum");
  }
  SUBCASE("a truncated checkpoint is skipped; none usable is an error listing why") {
    const auto b5 = rn::read_file(cdir / "gen_000005.ckpt");
    rn::write_file_atomic(cdir / "gen_000005.ckpt", b5.substr(0, 100));
    rn::write_file_atomic(cdir / "gen_000004.ckpt", "");
    const auto msg =
        message_of<rn::resume_error>([&] { (void)rn::find_resume_point(dir / "run", warn); });
    CHECK_CONTAINS(msg, "no usable checkpoint");
    CHECK_CONTAINS(msg, "gen_000005.ckpt is truncated");
    CHECK_CONTAINS(msg, "gen_000004.ckpt is not a dphys checkpoint");
    CHECK(warnings.size() == 2);
  }
  SUBCASE("an edited generations.jsonl invalidates the checkpoints that cover the edit") {
    auto text = rn::read_file(dir / "run" / "generations.jsonl");
    text[2] = text[2] == 'a' ? 'b' : 'a';
    rn::write_file_atomic(dir / "run" / "generations.jsonl", text);
    CHECK_CONTAINS(message_of<rn::resume_error>([&] { (void)rn::find_resume_point(dir / "run"); }),
                   "differ from those the checkpoint recorded");
  }
  SUBCASE("restore and continue equals the uninterrupted strategy") {
    dphys::search::openai_es ref({}, std::vector<float>(3, 0.5f), 4);
    dphys::evolve(ref, cruc, dphys::evolve_options{8, 4});
    dphys::search::openai_es back({}, std::vector<float>(3, 0.5f), 4);
    rn::restore_checkpoint(*p, back);
    dphys::evolve(back, cruc, dphys::evolve_options{8, 4});
    CHECK(std::equal(back.mean().begin(), back.mean().end(), ref.mean().begin()));
  }
}

TEST_CASE("observers' accumulators are checkpointed as extras and restored exactly") {
  struct best_tracker {  // an observer with state: generations seen, running sum of best fitness
    std::uint32_t seen = 0;
    double sum = 0;
    void operator()(const dphys::generation_record& r, const dphys::search::openai_es&) {
      ++seen;
      sum += r.best_fitness;
    }
    void save(dphys::state_writer& w) const {
      w.put("seen", seen);
      w.put("sum", sum);
    }
    void load(dphys::state_reader& r) {
      r.get("seen", seen);
      r.get("sum", sum);
    }
  };
  scratch_dir dir;
  sphere_crucible cruc{3};
  dphys::search::openai_es ref({}, std::vector<float>(3, 0.5f), 4);
  best_tracker ref_tracker;
  dphys::evolve(ref, cruc, dphys::evolve_options{6, 4}, std::ref(ref_tracker));

  auto rd = rn::run_directory::create(dir / "run");
  dphys::search::openai_es es({}, std::vector<float>(3, 0.5f), 4);
  best_tracker tracker;
  rn::checkpoint_writer ck(rd, {2, 1}, "{}", 6);
  auto log = [&](const dphys::generation_record& r, const auto&) {
    rd.generations().append(r.to_json());
  };
  dphys::evolve(es, cruc, dphys::evolve_options{3, 4}, log, std::ref(tracker),
                ck.observer(tracker));
  const auto p = rn::find_resume_point(dir / "run");
  REQUIRE(p);
  CHECK(p->generation == 2);
  dphys::search::openai_es back({}, std::vector<float>(3, 0.5f), 4);
  best_tracker back_tracker;
  rn::restore_checkpoint(*p, back, back_tracker);
  CHECK(back_tracker.seen == 2);
  dphys::evolve(back, cruc, dphys::evolve_options{6, 4}, std::ref(back_tracker));
  CHECK(back_tracker.seen == ref_tracker.seen);
  CHECK(back_tracker.sum == ref_tracker.sum);
  // Restoring without the extra the checkpoint holds is refused (unread records).
  dphys::search::openai_es bare({}, std::vector<float>(3, 0.5f), 4);
  CHECK_THROWS_AS(rn::restore_checkpoint(*p, bare), dphys::state_error);
}

TEST_CASE("check_resume_config refuses a changed config by key unless overridden") {
  const std::string before = R"({"seed":1,"generations":10,"es":{"sigma":0.1,"lr":0.05}})";
  const auto after =
      dphys::json::parse(R"({"seed":1,"generations":20,"es":{"sigma":0.2,"lr":0.01}})");
  const auto msg = message_of<rn::resume_error>(
      [&] { rn::check_resume_config(before, after, {"generations"}, false, {}, "ck"); });
  CHECK_CONTAINS(msg, "2 keys");
  CHECK_CONTAINS(msg, "es.lr: 0.05 in the checkpoint, 0.01 now");
  CHECK_CONTAINS(msg, "es.sigma: 0.1 in the checkpoint, 0.2 now");
  CHECK(msg.find("generations:") == std::string::npos);
  std::vector<std::string> warned;
  rn::check_resume_config(before, after, {"generations"}, true,
                          [&](const std::string& w) { warned.push_back(w); });
  REQUIRE(warned.size() == 1);
  CHECK_CONTAINS(warned[0], "es.sigma");
  CHECK_NOTHROW(rn::check_resume_config(before, dphys::json::parse(before), {}, false));
}

TEST_CASE("truncate_generations cuts the log atomically to the checkpoint's length") {
  scratch_dir dir;
  rn::write_file_atomic(dir / "generations.jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\"");
  rn::truncate_generations(dir.path(), 8);
  CHECK(rn::read_file(dir / "generations.jsonl") == "{\"a\":1}\n");
  CHECK_THROWS_AS(rn::truncate_generations(dir.path(), 100), rn::resume_error);
  rn::truncate_generations(dir.path(), 0);
  CHECK(rn::read_file(dir / "generations.jsonl").empty());
  rn::write_file_atomic(dir / ".config.json.tmp.123.0", "x");
  CHECK(rn::remove_stale_temporaries(dir.path()) == 1);
  CHECK(files_in(dir.path()) == std::vector<std::string>{"generations.jsonl"});
}

// ----------------------------------------------------------------------------------------------
// run_koki2 resume (in process; the SIGKILL version is tests/reliability/kill_resume.sh)

TEST_CASE("run_koki2: checkpoint at generation 3, resume to 6 == uninterrupted 6") {
  scratch_dir dir;
  const auto cfg = tiny_koki2();
  dphys::experiments::run_koki2(cfg, dir / "ref");
  auto short_cfg = cfg;
  short_cfg.generations = 3;
  dphys::experiments::koki2_run_control ctl;
  ctl.checkpoint.every = 2;
  dphys::experiments::run_koki2(short_cfg, dir / "run", {}, {}, ctl);
  CHECK(files_in(dir / "run" / "checkpoints") ==
        std::vector<std::string>{"gen_000002.ckpt", "gen_000003.ckpt"});
  // A run directory is never reused without --resume.
  CHECK_CONTAINS(message_of<rn::io_error>([&] { dphys::experiments::run_koki2(cfg, dir / "run"); }),
                 "pass --resume");
  ctl.resume = true;
  std::vector<std::string> warnings;
  ctl.warn = [&](const std::string& w) { warnings.push_back(w); };
  const auto res = dphys::experiments::run_koki2(cfg, dir / "run", {}, {}, ctl);
  CHECK(res.generations == 6);
  CHECK(warnings.empty());
  CHECK(without_timing(rn::read_file(dir / "run" / "generations.jsonl")) ==
        without_timing(rn::read_file(dir / "ref" / "generations.jsonl")));
  CHECK(rn::read_file(dir / "run" / "best_genome.npy") ==
        rn::read_file(dir / "ref" / "best_genome.npy"));
  const auto manifest = dphys::json::parse(rn::read_file(dir / "run" / "manifest.json"));
  CHECK(manifest["extra"]["resumed_from"]["generation"] == 3);

  SUBCASE("resume with a checkpoint beyond --generations is refused") {
    auto fewer = cfg;
    fewer.generations = 2;
    CHECK_CONTAINS(message_of<rn::resume_error>(
                       [&] { dphys::experiments::run_koki2(fewer, dir / "run", {}, {}, ctl); }),
                   "beyond generations = 2");
  }
  SUBCASE("an overridden config whose genome does not fit the checkpoint changes nothing") {
    auto bigger = cfg;
    bigger.agent.n_neurons = 40;
    ctl.allow_config_change = true;
    const auto before = rn::read_file(dir / "run" / "generations.jsonl");
    const auto config = rn::read_file(dir / "run" / "config.json");
    CHECK_CONTAINS(message_of<dphys::state_error>(
                       [&] { dphys::experiments::run_koki2(bigger, dir / "run", {}, {}, ctl); }),
                   "dimension");
    CHECK(rn::read_file(dir / "run" / "generations.jsonl") == before);
    CHECK(rn::read_file(dir / "run" / "config.json") == config);
  }
  SUBCASE("resume with another config is refused naming the keys; override continues") {
    auto changed = cfg;
    changed.generations = 7;
    changed.es.sigma = 0.2f;
    changed.env.max_steps = 40;
    const auto before = rn::read_file(dir / "run" / "generations.jsonl");
    const auto msg = message_of<rn::resume_error>(
        [&] { dphys::experiments::run_koki2(changed, dir / "run", {}, {}, ctl); });
    CHECK_CONTAINS(msg, "3 keys");  // env.energy_decay is derived from max_steps
    CHECK_CONTAINS(msg, "env.energy_decay: 0.03125 in the checkpoint, 0.025 now");
    CHECK_CONTAINS(msg, "env.max_steps: 32 in the checkpoint, 40 now");
    CHECK_CONTAINS(msg, "es.sigma: 0.1 in the checkpoint, 0.2 now");
    CHECK(rn::read_file(dir / "run" / "generations.jsonl") == before);
    ctl.allow_config_change = true;
    const auto r2 = dphys::experiments::run_koki2(changed, dir / "run", {}, {}, ctl);
    CHECK(r2.generations == 7);
    REQUIRE(warnings.size() == 1);
    CHECK_CONTAINS(warnings[0], "es.sigma");
  }
}

TEST_CASE("run_koki2 --resume of a run killed before its first checkpoint starts over") {
  scratch_dir dir;
  const auto cfg = tiny_koki2();
  dphys::experiments::run_koki2(cfg, dir / "ref");
  // What a kill during generation 2 (before any checkpoint) leaves: config.json, a partial log.
  auto stored = dphys::experiments::resolved_config_json(cfg, dir / "run");
  SUBCASE("its config.json as this version writes it") {}
  SUBCASE("its config.json from a version without the mean_eval group: the keys take defaults") {
    stored.erase("mean_eval");
  }
  fs::create_directories(dir / "run");
  rn::write_file_atomic(dir / "run" / "config.json", stored.dump(2));
  rn::write_file_atomic(dir / "run" / "generations.jsonl", "{\"generation\":0}\n{\"gener");
  rn::write_file_atomic(dir / "run" / ".best_genome.npy.tmp.99.0", "partial");
  dphys::experiments::koki2_run_control ctl;
  ctl.resume = true;
  std::vector<std::string> warnings;
  ctl.warn = [&](const std::string& w) { warnings.push_back(w); };
  dphys::experiments::run_koki2(cfg, dir / "run", {}, {}, ctl);
  REQUIRE(warnings.size() == 1);
  CHECK_CONTAINS(warnings[0], "no checkpoint yet");
  CHECK(without_timing(rn::read_file(dir / "run" / "generations.jsonl")) ==
        without_timing(rn::read_file(dir / "ref" / "generations.jsonl")));
  CHECK_FALSE(fs::exists(dir / "run" / ".best_genome.npy.tmp.99.0"));
}

TEST_CASE("with_current_keys: added keys take defaults, unreadable text is compared as it is") {
  const auto cfg = tiny_koki2();
  const auto stored = dphys::experiments::resolved_config_json(cfg, "run");
  // What does not read as this version's config is compared as it is (and so refused).
  const std::string unknown = R"({"seed": 11, "no_such_key": 1})";
  CHECK(dphys::experiments::with_current_keys(unknown) == unknown);
  CHECK(dphys::experiments::with_current_keys("{not json") == "{not json");
  auto changed = stored;
  changed.erase("mean_eval");  // and a key added since
  changed["es"]["sigma"] = 0.5;
  CHECK_CONTAINS(message_of<rn::resume_error>([&] {
                   rn::check_resume_config(dphys::experiments::with_current_keys(changed.dump()),
                                           stored, dphys::experiments::koki2_resume_neutral_keys(),
                                           false);
                 }),
                 "1 key:\n  es.sigma: 0.5 in the checkpoint, 0.1 now");
}

TEST_CASE("run_koki2 --resume of a finished run changes nothing, with or without checkpoints") {
  scratch_dir dir;
  const auto cfg = tiny_koki2();
  const auto ref = dphys::experiments::run_koki2(cfg, dir / "run");  // no checkpoints
  auto snapshot = [&] {
    std::vector<std::string> files;
    for (const auto& f : files_in(dir / "run"))
      files.push_back(f + ":" + rn::read_file(dir / "run" / f));
    return files;
  };
  const auto before = snapshot();
  dphys::experiments::koki2_run_control ctl;
  ctl.resume = true;
  std::vector<std::string> warnings, progress;
  ctl.warn = [&](const std::string& w) { warnings.push_back(w); };
  const auto say = [&](const std::string& line) { progress.push_back(line); };
  auto neutral = cfg;
  neutral.threads = 2;  // resume-neutral
  const auto again = dphys::experiments::run_koki2(neutral, dir / "run", {}, say, ctl);
  CHECK(snapshot() == before);  // manifest.json (start time) included
  CHECK(warnings.empty());
  REQUIRE(progress.size() == 1);
  CHECK_CONTAINS(progress[0], "finished (6 generations), nothing to do");
  CHECK(again.generations == 6);
  CHECK(again.best_fitness == ref.best_fitness);
  CHECK(again.best_genome == ref.best_genome);

  SUBCASE("another config is refused naming the key; with the override the run starts over") {
    auto changed = cfg;
    changed.es.sigma = 0.2f;
    CHECK_CONTAINS(message_of<rn::resume_error>(
                       [&] { dphys::experiments::run_koki2(changed, dir / "run", {}, say, ctl); }),
                   "es.sigma: 0.1");
    CHECK(snapshot() == before);
    ctl.allow_config_change = true;
    dphys::experiments::run_koki2(changed, dir / "run", {}, say, ctl);
    CHECK(snapshot() != before);
    REQUIRE_FALSE(warnings.empty());
    CHECK_CONTAINS(warnings.back(), "no checkpoint yet");
  }
  SUBCASE("more generations: not finished, so it runs (from 0 without a checkpoint)") {
    auto longer = cfg;
    longer.generations = 7;
    const auto r = dphys::experiments::run_koki2(longer, dir / "run", {}, say, ctl);
    CHECK(r.generations == 7);
    CHECK(rn::read_jsonl(dir / "run" / "generations.jsonl").size() == 7);
  }
  SUBCASE("a log that no longer matches its checksum is not taken as finished") {
    const auto log = dir / "run" / "generations.jsonl";
    const auto text = rn::read_file(log);
    rn::write_file_atomic(log, text.substr(0, text.rfind('\n', text.size() - 2) + 1));
    dphys::experiments::run_koki2(cfg, dir / "run", {}, say, ctl);
    CHECK(without_timing(rn::read_file(log)) == without_timing(text));
    CHECK_CONTAINS(warnings.back(), "no checkpoint yet");
  }
  SUBCASE("with checkpoints, too") {
    scratch_dir other;
    dphys::experiments::koki2_run_control with_ckpt;
    with_ckpt.checkpoint.every = 2;
    dphys::experiments::run_koki2(cfg, other / "run", {}, {}, with_ckpt);
    const auto manifest = rn::read_file(other / "run" / "manifest.json");
    with_ckpt.resume = true;
    const auto r = dphys::experiments::run_koki2(cfg, other / "run", {}, say, with_ckpt);
    CHECK(rn::read_file(other / "run" / "manifest.json") == manifest);
    CHECK(r.best_genome == ref.best_genome);
  }
}

// ----------------------------------------------------------------------------------------------
// Atomic artifacts: a full disk fails clearly and keeps what was written

TEST_CASE("a full disk while checkpointing: io_error naming the file, earlier files intact") {
  scratch_dir dir;
  auto rd = rn::run_directory::create(dir / "run");
  rd.write_config({{"x", 1}});
  dphys::search::openai_es es({}, std::vector<float>(400, 0.5f), 4);  // ~5 KB checkpoints
  sphere_crucible cruc{400};
  rn::checkpoint_writer ck(rd, {1, 3}, R"({"x":1})", 100);
  auto log = [&](const dphys::generation_record& r, const auto&) {
    rd.generations().append(r.to_json());
  };
  dphys::evolve(es, cruc, dphys::evolve_options{2, 4}, log, ck);
  const auto ck2 = rn::read_file(dir / "run" / "checkpoints" / "gen_000002.ckpt");
  const auto config = rn::read_file(dir / "run" / "config.json");
  std::string msg;
  {
    file_size_limit limit(1024);  // every checkpoint is larger
    msg = message_of<rn::io_error>([&] {
      dphys::evolve(es, cruc, dphys::evolve_options{3, 4}, log, ck);
    });
  }
  CHECK_CONTAINS(msg, "gen_000003.ckpt");
  CHECK_CONTAINS(msg, "File too large");
  CHECK(rn::read_file(dir / "run" / "checkpoints" / "gen_000002.ckpt") == ck2);
  CHECK(rn::read_file(dir / "run" / "config.json") == config);
  CHECK(files_in(dir / "run" / "checkpoints") ==
        std::vector<std::string>{"gen_000001.ckpt", "gen_000002.ckpt"});
  // The run resumes from generation 2 once there is space again.
  const auto p = rn::find_resume_point(dir / "run");
  REQUIRE(p);
  CHECK(p->generation == 2);
}

// ----------------------------------------------------------------------------------------------
// Bad-input matrix (docs/errors.md): one test case per row.

TEST_CASE("bad input: unknown or mistyped config key") {
  koki2_config cfg;
  const char* unknown[] = {"--es.pop_sise=3"};
  const auto msg =
      message_of<dphys::config_error>([&] { dphys::apply_overrides(cfg, 1, unknown); });
  CHECK_CONTAINS(msg, "es.pop_sise");
  CHECK_CONTAINS(msg, "unknown key; valid keys:");
  CHECK_CONTAINS(msg, "es.pop_size");
  const auto json_msg = message_of<dphys::config_error>(
      [&] { dphys::from_json(dphys::json::parse(R"({"es":{"sigma":"big"}})"), cfg); });
  CHECK_CONTAINS(json_msg, "es.sigma");
  CHECK_CONTAINS(json_msg, "\"big\"");
  CHECK(cfg.es.sigma == 0.1f);  // unchanged
}

TEST_CASE("bad input: out-of-range value") {
  koki2_config cfg;
  cfg.es.pop_size = 1;
  const auto msg = message_of<dphys::config_error>([&] { dphys::validate(cfg); });
  CHECK_CONTAINS(msg, "es.pop_size = 1");
  CHECK_CONTAINS(msg, ">= 2");
}

TEST_CASE("bad input: inconsistent values (more bad sources than sources)") {
  koki2_config cfg;
  cfg.env.num_sources = 2;
  cfg.env.num_bad_sources = 3;
  const auto msg = message_of<dphys::config_error>([&] { dphys::validate(cfg); });
  CHECK_CONTAINS(msg, "env.num_bad_sources = 3");
  CHECK_CONTAINS(msg, "env.num_sources");
}

TEST_CASE("bad input: corrupt or truncated checkpoint") {
  dphys::search::openai_es es({}, std::vector<float>(3, 0.5f), 4);
  dphys::state_writer w;
  es.save(w);
  const std::string good = w.bytes();
  auto corrupt = good;
  corrupt[20] ^= 0x40;
  CHECK_CONTAINS(message_of<dphys::state_error>([&] { dphys::state_reader r(corrupt, "c.ckpt"); }),
                 "c.ckpt is corrupt (checksum mismatch)");
  CHECK_CONTAINS(message_of<dphys::state_error>(
                     [&] { dphys::state_reader r(good.substr(0, good.size() - 3), "t.ckpt"); }),
                 "t.ckpt is truncated");
  // Resume skips such files with a warning (see the checkpoint_writer test above).
}

TEST_CASE("bad input: wrong-shape or wrong-dtype genome file") {
  scratch_dir dir;
  const std::vector<double> d(5, 1.0);
  rn::save_npy(dir / "g.npy", d, {5});
  CHECK_CONTAINS(message_of<rn::format_error>([&] { (void)rn::load_npy<float>(dir / "g.npy"); }),
                 "wrong dtype: expected <f4, found <f8");
  // A genome of the wrong length cannot be restored into a strategy: the checkpoint names it.
  dphys::search::openai_es es({}, std::vector<float>(5, 0.0f), 1);
  dphys::state_writer w;
  es.save(w);
  dphys::search::openai_es other({}, std::vector<float>(6, 0.0f), 1);
  dphys::state_reader r(w.bytes(), "g.ckpt");
  CHECK_CONTAINS(message_of<dphys::state_error>([&] { other.load(r); }),
                 "'dimension' is 5, this openai_es has dimension 6");
}

TEST_CASE("bad input: non-finite fitness is ranked last, counted and logged as null") {
  struct nan_crucible {
    [[nodiscard]] std::size_t genome_size() const { return 2; }
    struct result {
      std::vector<float> fitness;
    };
    result evaluate(std::span<const float> pop, const dphys::crucibles::rollout_keys&) const {
      result r;
      for (std::size_t i = 0; i < pop.size() / 2; ++i)
        r.fitness.push_back(i % 3 == 0   ? std::numeric_limits<float>::quiet_NaN()
                            : i % 3 == 1 ? std::numeric_limits<float>::infinity()
                                         : -pop[2 * i] * pop[2 * i]);
      return r;
    }
  };
  dphys::search::openai_es_config c;
  c.pop_size = 6;
  dphys::search::openai_es es(c, {0.5f, 0.5f}, 2);
  std::vector<dphys::json> records;
  dphys::evolve(
      es, nan_crucible{}, dphys::evolve_options{3, 2},
      [&](const dphys::generation_record& r, const auto&) { records.push_back(r.to_json()); });
  REQUIRE(records.size() == 3);
  for (const auto& r : records) CHECK(r["non_finite"] == 4);
  for (float m : es.mean()) CHECK(std::isfinite(m));
  CHECK(std::isfinite(es.best_fitness()));
  // All non-finite: statistics are NaN, logged as null by the JSONL writer.
  dphys::generation_record rec;
  const float nans[] = {std::numeric_limits<float>::quiet_NaN()};
  dphys::fill_statistics(rec, nans);
  CHECK(rec.non_finite == 1);
  CHECK(rec.to_json()["best_fitness"].is_number());  // NaN number; jsonl_appender dumps it as null
  CHECK(rec.to_json().dump().find("null") != std::string::npos);
}

TEST_CASE("bad input: exploding state becomes non-finite fitness, counted, never a crash") {
  auto cfg = tiny_koki2();
  cfg.generations = 1;
  cfg.plasticity.enabled = true;
  cfg.plasticity.eta = 1e30f;  // weights and traces overflow
  cfg.plasticity.w_clip = std::numeric_limits<float>::max();
  cfg.es.sigma = 1e30f;
  cfg.agent.theta = 1e-30f;
  auto p = dphys::experiments::koki2_pipeline::make(cfg);
  std::vector<float> m(p.genome.size());
  p.genome.init(cfg.seed, 0, m);
  dphys::search::openai_es es(cfg.es, m, cfg.seed);
  const auto pop = es.ask();
  const auto ev =
      p.crucible.template evaluate<float>(pop, dphys::crucibles::rollout_keys{1, 0, 0, 0});
  REQUIRE(ev.fitness.size() == static_cast<std::size_t>(cfg.es.pop_size));
  std::size_t non_finite = 0;
  for (float f : ev.fitness) non_finite += std::isfinite(f) ? 0 : 1;
  CHECK(ev.non_finite == non_finite);
  es.tell(ev.fitness);  // never propagates into the mean
  for (float x : es.mean()) CHECK_FALSE(std::isnan(x));
}

// Rows of docs/errors.md not yet backed by code in this tree (added with their components):
// malformed program text (surrogate expression programs) and a proposal process that hangs,
// crashes or floods its output. Their fuzz targets and rows come with those parsers.

// ----------------------------------------------------------------------------------------------
// Fuzz corpora and crash regressions, replayed with any compiler

TEST_CASE("fuzz corpora and regressions replay without breaking a contract") {
  const fs::path root = DPHYS_FUZZ_DIR;
  dphys_fuzz::fuzz_fail_handler() = [](const std::string& what) { FAIL_CHECK(what); };
  std::size_t n = 0;
  for (const auto& [name, body] : dphys_fuzz::fuzz_registry()) {
    for (const char* kind : {"corpus", "regressions"}) {
      const fs::path dir = root / kind / name;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) {
        CHECK_MESSAGE(std::string(kind) == "regressions", "missing seed corpus " << dir);
        continue;
      }
      for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
        CAPTURE(e.path().string());
        const std::string bytes = rn::read_file(e.path());
        body(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        ++n;
      }
    }
  }
  dphys_fuzz::fuzz_fail_handler() = nullptr;
  CHECK(n >= 20);
}
