// dphys/surrogate/proposer.hpp — the proposal hook (spec §0.3): an external command (an LLM
// wrapper, a script, another optimiser) receives a JSON request on stdin and answers with
// candidate programs in the text form on stdout; dphys validates them like native candidates.
// `process_proposer` runs the command (fork + execv of /bin/sh -c, pipes, a poll() loop) under a
// timeout (the child's process group is killed) and an output-size limit; malformed output becomes
// structured feedback sent with the next request. `mock_proposer` is a deterministic built-in
// proposer for offline use and tests. JSON contract: docs/reference/surrogate.md.
//
// Extension point: anything callable as `proposal_outcome(const proposal_request&)` can stand in
// for a proposer (see ga_proposal_source). Failure modes: never hangs, never crashes, never throws
// for a misbehaving child: every failure is a proposal_status with a message. POSIX only.
// Thread safety: one proposer per thread.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <dphys/core/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dphys/core/config_check.hpp>
#include <dphys/core/enum_names.hpp>
#include <dphys/core/reflect.hpp>
#include <dphys/surrogate/galaxy_ga.hpp>
#include <dphys/surrogate/program.hpp>
#include <dphys/surrogate/text.hpp>
#include <dphys/surrogate/validator.hpp>
#include <dphys/surrogate/variation.hpp>

namespace dphys::surrogate {

struct proposer_config {
  std::string command;                    ///< run as /bin/sh -c <command>
  double timeout_seconds = 30.0;          ///< wall-clock limit of one call (child group killed)
  int max_output_bytes = 1 << 20;         ///< stdout limit (child group killed when exceeded)
  int max_programs = 16;                  ///< programs taken from one response
  int max_feedback = 8;                   ///< feedback messages carried to the next request
  parse_limits limits{};                  ///< applied to proposed programs

  void check(config_checker<proposer_config>& c) const {
    c(&proposer_config::timeout_seconds).greater_than(0.0).at_most(86400.0);
    c(&proposer_config::max_output_bytes).in_range(16, 1 << 30);
    c(&proposer_config::max_programs).in_range(1, 10000);
    c(&proposer_config::max_feedback).in_range(0, 10000);
  }
};

}  // namespace dphys::surrogate

DPHYS_ADAPT_STRUCT(dphys::surrogate::proposer_config, command, timeout_seconds, max_output_bytes,
                   max_programs, max_feedback, limits);

namespace dphys::surrogate {

/// A parent sent to the proposer: program text and its scores.
struct scored_text {
  std::string program;
  double fitness = 0, accuracy = 0, cost = 0;
  std::size_t size = 0;
};

struct proposal_request {
  std::string task = "Propose pair kernels for a surrogate of softened Newtonian gravity.";
  int want = 4;         ///< how many programs are asked for
  int generation = 0;
  std::uint64_t seed = 0;
  std::vector<scored_text> parents;
  std::vector<std::string> previous_errors;  ///< feedback on the previous response
};

/// The request as the JSON document sent on stdin (schema dphys.surrogate.proposal_request/1).
inline dphys::json to_json(const proposal_request& r) {
  dphys::json j;
  j["schema"] = "dphys.surrogate.proposal_request/1";
  j["task"] = r.task;
  j["want"] = r.want;
  j["generation"] = r.generation;
  j["seed"] = r.seed;
  j["format"] =
      "Answer with one JSON object {\"programs\": [\"<program text>\", ...]} on stdout. Program "
      "text: optional lines 'const NAME = NUMBER', 'neighbours: all | cutoff(radius=R[, far=com]) "
      "| knn(k=K[, far=com])', required 'kernel: <infix expression>', optional 'update: "
      "leapfrog(kick=C) | symplectic_euler(kick=C) | taylor(cv=A, ca=B, kick=C)'. Kernel "
      "leaves: dx dy dz r2 r m_i m_j dvx dvy dvz dv2 rdotv, numbers, constants; operators + - * / "
      "unary -, functions abs sqrt exp log pow(a,b) min(a,b) max(a,b). The pair acceleration is "
      "kernel * (x_j - x_i).";
  auto parents = dphys::json::array();
  for (const auto& p : r.parents)
    parents.push_back({{"program", p.program},
                       {"fitness", p.fitness},
                       {"accuracy", p.accuracy},
                       {"cost", p.cost},
                       {"size", p.size}});
  j["parents"] = std::move(parents);
  j["previous_errors"] = r.previous_errors;
  return j;
}

enum class proposal_status : std::uint8_t {
  ok,                ///< the response parsed (individual programs may still be rejected)
  timeout,           ///< no complete answer within timeout_seconds; the group was killed
  output_limit,      ///< stdout exceeded max_output_bytes; the group was killed
  exit_failure,      ///< exited with a non-zero status
  signalled,         ///< killed by a signal (not by us)
  malformed_output,  ///< stdout is not the JSON object of the contract
  spawn_failed       ///< pipes or fork failed
};
constexpr auto enum_names(proposal_status) {
  using S = proposal_status;
  return std::array{std::pair{S::ok, std::string_view{"ok"}},
                    std::pair{S::timeout, std::string_view{"timeout"}},
                    std::pair{S::output_limit, std::string_view{"output_limit"}},
                    std::pair{S::exit_failure, std::string_view{"exit_failure"}},
                    std::pair{S::signalled, std::string_view{"signalled"}},
                    std::pair{S::malformed_output, std::string_view{"malformed_output"}},
                    std::pair{S::spawn_failed, std::string_view{"spawn_failed"}}};
}

struct rejected_proposal {
  std::string text;
  rejection reason = rejection::none;
  std::string message;
};

struct proposal_outcome {
  proposal_status status = proposal_status::ok;
  std::string message;          ///< what went wrong (empty when ok)
  int exit_code = -1;           ///< exit status, or -1 when killed / not exited
  std::string stderr_excerpt;   ///< first 4 KiB of the child's stderr
  std::vector<program> programs;          ///< valid proposals, in response order
  std::vector<rejected_proposal> rejected;  ///< invalid proposals with reasons
};

namespace detail {

struct process_result {
  bool spawned = false;
  bool timed_out = false;
  bool output_exceeded = false;
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
  std::string error;  ///< spawn failure reason
};

struct fd_closer {
  int fd = -1;
  ~fd_closer() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

/// Runs `/bin/sh -c command` in a new process group with `input` on stdin; collects stdout (at
/// most max_out bytes) and stderr (first max_err bytes kept); kills the group on timeout or when
/// stdout overflows. Always reaps the child.
inline process_result run_command(const std::string& command, std::string_view input,
                                  double timeout_seconds, std::size_t max_out,
                                  std::size_t max_err = 4096) {
  process_result r;
  int sv[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    r.error = std::string("socketpair: ") + std::strerror(errno);
    return r;
  }
  fd_closer in_p{sv[0]}, in_c{sv[1]};
  if (::pipe2(op, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  fd_closer out_p{op[0]}, out_c{op[1]};
  if (::pipe2(ep, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  fd_closer err_p{ep[0]}, err_c{ep[1]};
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.error = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    ::setpgid(0, 0);
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &sa, nullptr);
    if (::dup2(sv[1], 0) < 0 || ::dup2(op[1], 1) < 0 || ::dup2(ep[1], 2) < 0) ::_exit(126);
    ::execv("/bin/sh", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  r.spawned = true;
  ::setpgid(pid, pid);  // also in the parent: no race with the kill below
  in_c.reset();
  out_c.reset();
  err_c.reset();
  for (int fd : {in_p.fd, out_p.fd, err_p.fd}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  using clock = std::chrono::steady_clock;
  const auto deadline =
      clock::now() + std::chrono::duration_cast<clock::duration>(
                         std::chrono::duration<double>(timeout_seconds));
  std::size_t sent = 0;
  if (input.empty()) in_p.reset();
  std::array<char, 65536> buf{};
  while (out_p.fd >= 0 || err_p.fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    int i_in = -1, i_out = -1, i_err = -1;
    if (in_p.fd >= 0) {
      fds[n] = {in_p.fd, POLLOUT, 0};
      i_in = static_cast<int>(n++);
    }
    if (out_p.fd >= 0) {
      fds[n] = {out_p.fd, POLLIN, 0};
      i_out = static_cast<int>(n++);
    }
    if (err_p.fd >= 0) {
      fds[n] = {err_p.fd, POLLIN, 0};
      i_err = static_cast<int>(n++);
    }
    const int pr = ::poll(fds.data(), n, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (pr < 0) {
      if (errno == EINTR) continue;
      r.error = std::string("poll: ") + std::strerror(errno);
      r.timed_out = true;  // treat as failure: kill below
      break;
    }
    if (i_in >= 0 && fds[static_cast<std::size_t>(i_in)].revents != 0) {
      const ssize_t w = ::send(in_p.fd, input.data() + sent, input.size() - sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) sent += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == input.size()) in_p.reset();
    }
    auto drain = [&](fd_closer& fd, std::string& sink, std::size_t keep, bool limited) {
      for (;;) {
        const ssize_t got = ::read(fd.fd, buf.data(), buf.size());
        if (got > 0) {
          const auto g = static_cast<std::size_t>(got);
          if (limited && sink.size() + g > keep) {
            r.output_exceeded = true;
            return;
          }
          if (sink.size() < keep) sink.append(buf.data(), std::min(g, keep - sink.size()));
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) fd.reset();
        return;
      }
    };
    if (i_out >= 0 && fds[static_cast<std::size_t>(i_out)].revents != 0) drain(out_p, r.out, max_out, true);
    if (r.output_exceeded) break;
    if (i_err >= 0 && fds[static_cast<std::size_t>(i_err)].revents != 0) drain(err_p, r.err, max_err, false);
  }
  in_p.reset();  // EOF for a child still reading
  out_p.reset();
  err_p.reset();
  // Reap. The group is killed only while the child is alive or a zombie (waitid with WNOWAIT
  // leaves it unreaped), so its id cannot have been reused by an unrelated process group.
  if (!r.timed_out && !r.output_exceeded) {
    for (;;) {  // a child that closed its outputs but keeps running is killed at the deadline
      siginfo_t si{};
      const int w = ::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT);
      if (w == 0 && si.si_pid == pid) break;
      if (w < 0 && errno != EINTR) break;
      if (clock::now() >= deadline) {
        r.timed_out = true;
        break;
      }
      ::usleep(2000);
    }
  }
  ::kill(-pid, SIGKILL);  // the timed-out or flooding child, or stray grandchildren of a finished one
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace detail

/// Parses a response document and validates each program; fills outcome.programs/rejected, or
/// sets status malformed_output with a message.
inline void read_response(std::string_view text, const proposer_config& cfg,
                          proposal_outcome& out) {
  dphys::json j;
  try {
    j = dphys::json::parse(text);
  } catch (const dphys::json::exception& e) {
    out.status = proposal_status::malformed_output;
    out.message = std::string("response is not JSON: ") + e.what();
    return;
  }
  if (!j.is_object() || !j.contains("programs") || !j["programs"].is_array()) {
    out.status = proposal_status::malformed_output;
    out.message = "response must be a JSON object with a \"programs\" array";
    return;
  }
  int taken = 0;
  for (const auto& item : j["programs"]) {
    if (taken++ >= cfg.max_programs) break;
    std::string t;
    if (item.is_string())
      t = item.get<std::string>();
    else if (item.is_object() && item.contains("program") && item["program"].is_string())
      t = item["program"].get<std::string>();
    else {
      out.rejected.push_back({item.dump(-1, ' ', false, dphys::json::error_handler_t::replace)
                                  .substr(0, 200),
                              rejection::parse_error,
                              "a programs entry must be a string or {\"program\": string}"});
      continue;
    }
    program p;
    validation v = validate_text(t, cfg.limits, &p);
    if (v.ok())
      out.programs.push_back(std::move(p));
    else
      out.rejected.push_back({t.substr(0, 2000), v.reason, v.message});
  }
}

/// Runs an external proposer command per request. Feedback (malformed output, rejected programs,
/// failures) from one call is added to the next request's previous_errors.
class process_proposer {
 public:
  explicit process_proposer(proposer_config cfg) : cfg_(std::move(cfg)) { validate(cfg_); }

  proposal_outcome operator()(proposal_request req) {
    for (auto& f : feedback_) req.previous_errors.push_back(std::move(f));
    feedback_.clear();
    proposal_outcome out;
    const std::string input = to_json(req).dump(-1, ' ', false,
                                                dphys::json::error_handler_t::replace) + "\n";
    const auto pr = detail::run_command(cfg_.command, input, cfg_.timeout_seconds,
                                        static_cast<std::size_t>(cfg_.max_output_bytes));
    out.exit_code = pr.exit_code;
    out.stderr_excerpt = pr.err;
    if (!pr.spawned) {
      out.status = proposal_status::spawn_failed;
      out.message = pr.error;
    } else if (pr.timed_out) {
      out.status = proposal_status::timeout;
      out.message = "no answer within " + detail::number_text(cfg_.timeout_seconds) +
                    " s; the process group was killed";
    } else if (pr.output_exceeded) {
      out.status = proposal_status::output_limit;
      out.message = "stdout exceeded " + std::to_string(cfg_.max_output_bytes) +
                    " bytes; the process group was killed";
    } else if (pr.signal != 0) {
      out.status = proposal_status::signalled;
      out.message = "killed by signal " + std::to_string(pr.signal);
    } else if (pr.exit_code != 0) {
      out.status = proposal_status::exit_failure;
      out.message = "exited with status " + std::to_string(pr.exit_code);
    } else {
      read_response(pr.out, cfg_, out);
    }
    if (out.status != proposal_status::ok)
      note_(std::string(enum_name(out.status)) + ": " + out.message);
    for (const auto& r : out.rejected)
      note_("rejected program (" + std::string(enum_name(r.reason)) + "): " + r.message);
    ++calls_;
    return out;
  }

  /// Feedback that will be sent with the next request.
  [[nodiscard]] const std::vector<std::string>& feedback() const noexcept { return feedback_; }
  [[nodiscard]] const proposer_config& config() const noexcept { return cfg_; }
  [[nodiscard]] std::uint64_t calls() const noexcept { return calls_; }

 private:
  void note_(std::string s) {
    if (feedback_.size() < static_cast<std::size_t>(cfg_.max_feedback)) feedback_.push_back(std::move(s));
  }
  proposer_config cfg_;
  std::vector<std::string> feedback_;
  std::uint64_t calls_ = 0;
};

/// A deterministic built-in proposer: mutates the request's parents (or, without parents, offers
/// the Newtonian reference family) with draws keyed by (seed, generation, k). Use it offline, in
/// tests, and as the reference for the JSON contract (respond()).
class mock_proposer {
 public:
  explicit mock_proposer(variation_config vc = {}, parse_limits limits = {})
      : vc_(std::move(vc)), limits_(limits) {}

  proposal_outcome operator()(const proposal_request& req) const {
    proposal_outcome out;
    read_response(respond(to_json(req).dump()), proposer_config{"", 1.0, 1 << 20, 10000, 8, limits_},
                  out);
    return out;
  }

  /// The response document for a request document (what a well-behaved external proposer
  /// prints). Malformed requests get an empty program list.
  [[nodiscard]] std::string respond(std::string_view request_json) const {
    dphys::json req, res;
    res["programs"] = dphys::json::array();
    try {
      req = dphys::json::parse(request_json);
    } catch (const dphys::json::exception&) {
      return res.dump();
    }
    const int want = req.value("want", 4);
    const auto gen = static_cast<std::uint32_t>(req.value("generation", 0));
    const std::uint64_t seed = req.value("seed", std::uint64_t{0});
    std::vector<program> parents;
    if (req.contains("parents") && req["parents"].is_array())
      for (const auto& p : req["parents"])
        if (p.is_object() && p.contains("program") && p["program"].is_string()) {
          try {
            parents.push_back(parse_program(p["program"].get<std::string>(), limits_));
          } catch (const parse_error&) {
          }
        }
    for (int k = 0; k < want && k < 10000; ++k) {
      draw_stream d(seed, proposal_stream, gen, static_cast<std::uint32_t>(k));
      program p;
      if (parents.empty()) {
        p = newtonian_program(1.0, 0.1 * (1 + k));  // the softened family, eps = 0.1, 0.2, ...
      } else {
        p = mutate(parents[static_cast<std::size_t>(k) % parents.size()], vc_, d, true);
      }
      res["programs"].push_back(print_program(p));
    }
    return res.dump();
  }

 private:
  variation_config vc_;
  parse_limits limits_;
};

/// Adapts a proposer (process_proposer, mock_proposer, or any callable proposal_request ->
/// proposal_outcome) into program_ops::proposer for the Galaxy GA: each generation, elites become
/// the request's parents and `want` programs are asked for. `log` (optional) sees every outcome.
template <class Proposer>
std::function<std::vector<program>(int, const std::vector<const member<program>*>&)>
ga_proposal_source(Proposer& proposer, int want, std::uint64_t seed,
                   std::function<void(const proposal_outcome&)> log = {}) {
  return [&proposer, want, seed, log](int generation,
                                      const std::vector<const member<program>*>& elites) {
    proposal_request req;
    req.want = want;
    req.generation = generation;
    req.seed = seed;
    for (const auto* e : elites)
      req.parents.push_back({print_program(e->genome), e->eval.fitness, e->eval.accuracy,
                             e->eval.cost, e->eval.size});
    proposal_outcome out = proposer(req);
    if (log) log(out);
    return std::move(out.programs);
  };
}

}  // namespace dphys::surrogate
