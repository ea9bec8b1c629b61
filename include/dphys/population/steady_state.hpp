// dphys/population/steady_state.hpp — the steady-state driver (Genesis S3): births asked in
// order, up to P evaluations in flight, results committed in birth order through a commit
// buffer, so completion order never changes the outcome. Extension points: the Executor
// (submit(birth, work) / wait_one() -> birth): thread_pool_executor, deferred_executor (runs
// work only when waited for, in an order the caller picks: used to test order independence).
//
// Contract: birth b is asked when exactly commits_before_ask(b, P) births have been committed
// (0 for b = 0, else max(1, b − P + 1)): birth 0 (the initial program) is committed before any
// child is asked, and at most P births are in flight. ask and commit run on the calling thread
// in birth order; evaluate runs on the executor and must be a pure function of its job.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace dphys::population {

/// Steady state: a birth is asked as soon as a slot frees. Generational: after birth 0, births
/// come in batches of P, each asked against the database holding every earlier batch.
enum class schedule { steady_state, generational };

/// Commits that must precede the ask of birth b with P evaluations in flight: steady state
/// max(1, b − P + 1); generational 1 + ⌊(b − 1)/P⌋·P; 0 for b = 0 in both.
constexpr std::uint64_t commits_before_ask(std::uint64_t b, std::uint64_t in_flight,
                                           schedule s = schedule::steady_state) {
  if (b == 0) return 0;
  if (s == schedule::generational) return 1 + (b - 1) / in_flight * in_flight;
  return b + 1 > in_flight ? std::max<std::uint64_t>(1, b + 1 - in_flight) : 1;
}

/// Runs work on `threads` worker threads; wait_one() returns the birth of a finished work item
/// (rethrowing its exception, if any). Not copyable; the destructor joins the workers after the
/// queued work has run.
class thread_pool_executor {
 public:
  explicit thread_pool_executor(unsigned threads) {
    if (threads == 0) throw std::invalid_argument("thread_pool_executor: threads = 0: must be >= 1");
    for (unsigned t = 0; t < threads; ++t) workers_.emplace_back([this] { loop_(); });
  }
  thread_pool_executor(const thread_pool_executor&) = delete;
  thread_pool_executor& operator=(const thread_pool_executor&) = delete;
  ~thread_pool_executor() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void submit(std::uint64_t birth, std::function<void()> work) {
    {
      std::lock_guard lock(m_);
      todo_.emplace_back(birth, std::move(work));
    }
    cv_.notify_one();
  }

  std::uint64_t wait_one() {
    std::unique_lock lock(m_);
    done_cv_.wait(lock, [&] { return !done_.empty(); });
    auto [birth, err] = std::move(done_.front());
    done_.pop_front();
    lock.unlock();
    if (err) std::rethrow_exception(err);
    return birth;
  }

 private:
  void loop_() {
    for (;;) {
      std::pair<std::uint64_t, std::function<void()>> job;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
        if (todo_.empty()) return;
        job = std::move(todo_.front());
        todo_.pop_front();
      }
      std::exception_ptr err;
      try {
        job.second();
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard lock(m_);
        done_.emplace_back(job.first, err);
      }
      done_cv_.notify_one();
    }
  }

  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> todo_;
  std::deque<std::pair<std::uint64_t, std::exception_ptr>> done_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

/// Runs nothing until wait_one(), which runs the pending item chosen by `choose(pending births)`
/// (an index into them) on the calling thread. Default: first submitted first.
template <class Choose = std::nullptr_t>
class deferred_executor {
 public:
  deferred_executor() = default;
  explicit deferred_executor(Choose choose) : choose_(std::move(choose)) {}

  void submit(std::uint64_t birth, std::function<void()> work) {
    pending_.emplace_back(birth, std::move(work));
  }
  std::uint64_t wait_one() {
    if (pending_.empty()) throw std::logic_error("deferred_executor::wait_one: nothing pending");
    std::size_t k = 0;
    if constexpr (!std::is_same_v<Choose, std::nullptr_t>) {
      std::vector<std::uint64_t> births;
      for (const auto& p : pending_) births.push_back(p.first);
      k = choose_(std::as_const(births));
      if (k >= births.size()) throw std::out_of_range("deferred_executor: chooser index out of range");
    }
    auto item = std::move(pending_[k]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(k));
    item.second();
    return item.first;
  }

 private:
  [[no_unique_address]] Choose choose_{};
  std::vector<std::pair<std::uint64_t, std::function<void()>>> pending_;
};

/// The driver. ask(birth) -> Job (calling thread, birth order); evaluate(const Job&) -> Result
/// (executor; pure); commit(birth, Job&&, Result&&) (calling thread, birth order). Births
/// [0, births) with at most `in_flight` (>= 1) evaluations outstanding, asked by `sched`. If
/// anything throws, the outstanding work is drained before the exception propagates.
template <class Ask, class Evaluate, class Commit, class Executor>
void run_steady_state(std::uint64_t births, std::uint32_t in_flight, Ask&& ask, Evaluate&& evaluate,
                      Commit&& commit, Executor& executor,
                      schedule sched = schedule::steady_state) {
  if (in_flight == 0) throw std::invalid_argument("run_steady_state: in_flight = 0: must be >= 1");
  using job_type = std::invoke_result_t<Ask&, std::uint64_t>;
  using result_type = std::invoke_result_t<Evaluate&, const job_type&>;
  struct slot {
    job_type job;
    std::optional<result_type> result;  // written by the executor
    bool finished = false;  // set on this thread when wait_one() reports the birth (happens-after)
  };
  std::map<std::uint64_t, std::unique_ptr<slot>> slots;  // the commit buffer, keyed by birth
  std::uint64_t next = 0, committed = 0, outstanding = 0;
  try {
    while (committed < births) {
      while (next < births && commits_before_ask(next, in_flight, sched) == committed) {
        auto s = std::make_unique<slot>(slot{ask(next), std::nullopt, false});
        slot* raw = s.get();
        slots.emplace(next, std::move(s));
        executor.submit(next, [raw, &evaluate] { raw->result.emplace(evaluate(std::as_const(raw->job))); });
        ++outstanding;
        ++next;
      }
      auto it = slots.find(committed);
      if (it != slots.end() && it->second->finished) {
        commit(committed, std::move(it->second->job), std::move(*it->second->result));
        slots.erase(it);
        ++committed;
        continue;
      }
      --outstanding;  // wait_one consumes an item even when it rethrows
      const std::uint64_t done = executor.wait_one();
      if (auto d = slots.find(done); d != slots.end() && d->second->result) d->second->finished = true;
      else throw std::logic_error("run_steady_state: the executor reported birth " +
                                  std::to_string(done) + ", which has no finished evaluation");
    }
  } catch (...) {
    for (; outstanding > 0; --outstanding) {
      try {
        (void)executor.wait_one();
      } catch (...) {
      }
    }
    throw;
  }
}

}  // namespace dphys::population
