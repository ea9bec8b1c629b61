// dphys/core/parallel.hpp — deterministic fork-join over independent tasks on a persistent worker
// pool. Tasks write to disjoint outputs, so results never depend on the thread count or on which
// thread ran which task.
//
// The pool (thread_pool::global()) starts its workers on first use and keeps them parked on a
// condition variable between jobs, so a rollout per generation pays a wake-up (microseconds), not
// a thread creation; on virtual machines a new thread also tends to start on its parent's vCPU and
// migrates only later, which a persistent worker avoids. A parallel_for issued from inside a task
// runs serially on the calling worker (no nested parallelism, no deadlock).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dphys {

/// Number of hardware threads (at least 1).
inline int hardware_threads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

/// A fixed set of parked worker threads that join the caller on one job at a time.
class thread_pool {
 public:
  thread_pool() = default;
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  /// The process-wide pool used by parallel_for.
  static thread_pool& global() {
    static thread_pool pool;
    return pool;
  }

  /// True on a thread that is currently running a pool task.
  static bool inside_task() { return in_task_flag(); }

  /// Runs `work` on the calling thread and on `helpers` pool workers at once, and returns when all
  /// of them have returned. `work` must not throw (parallel_for catches for it). Jobs from
  /// different calling threads are serialised.
  void run(std::size_t helpers, const std::function<void()>& work) {
    std::lock_guard job_lock(job_m_);
    {
      std::unique_lock lock(m_);
      while (workers_.size() < helpers) {
        const std::size_t id = workers_.size();
        workers_.emplace_back([this, id] { worker_loop(id); });
      }
      job_ = &work;
      wanted_ = helpers;
      finished_ = 0;
      ++epoch_;
    }
    wake_.notify_all();
    in_task_flag() = true;
    work();
    in_task_flag() = false;
    std::unique_lock lock(m_);
    done_.wait(lock, [&] { return finished_ == wanted_; });
    job_ = nullptr;
  }

 private:
  static bool& in_task_flag() {
    thread_local bool flag = false;
    return flag;
  }

  void worker_loop(std::size_t id) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(m_);
      seen = epoch_ - 1;  // a worker started for the current job takes part in it
    }
    in_task_flag() = true;
    for (;;) {
      const std::function<void()>* job = nullptr;
      {
        std::unique_lock lock(m_);
        wake_.wait(lock, [&] { return stop_ || (epoch_ != seen && id < wanted_); });
        if (stop_) return;
        seen = epoch_;
        job = job_;
      }
      (*job)();
      {
        std::lock_guard lock(m_);
        ++finished_;
      }
      done_.notify_one();
    }
  }

  std::mutex job_m_;  // one job at a time
  std::mutex m_;      // guards everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void()>* job_ = nullptr;
  std::size_t wanted_ = 0, finished_ = 0;
  std::uint64_t epoch_ = 0;
  bool stop_ = false;
};

/// Runs fn(i) for i in [0, n) on `threads` threads (<= 0: all hardware threads): the caller plus
/// threads − 1 pool workers; tasks are dealt dynamically. The first exception thrown by a task is
/// rethrown after every thread has finished; the remaining tasks are skipped.
template <class Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn) {
  if (threads <= 0) threads = hardware_threads();
  const auto workers = std::min<std::size_t>(static_cast<std::size_t>(threads), n);
  if (workers <= 1 || thread_pool::inside_task()) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const std::function<void()> work = [&] {
    try {
      for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n);
    }
  };
  thread_pool::global().run(workers - 1, work);
  if (error) std::rethrow_exception(error);
}

}  // namespace dphys
