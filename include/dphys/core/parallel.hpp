// dphys/core/parallel.hpp — deterministic fork-join over independent tasks on a persistent worker
// pool. Tasks write to disjoint outputs, so results never depend on the thread count or on which
// thread ran which task.
//
// The pool (thread_pool::global()) starts its workers on first use and keeps them between jobs
// (polling for up to thread_pool::worker_spin, then parked on a condition variable), so a rollout
// per generation pays at most a wake-up, not a thread creation; on virtual machines a new thread
// also tends to start on its parent's vCPU and migrates only later, so a persistent worker pays that
// once per process, not once per job. Until it has migrated it runs only while the caller blocks,
// so a fresh process's first jobs can run at one-thread speed (on the 2-vCPU test VM, most 20-ms
// runs did; after 0.25 s of jobs every run was spread: docs/performance_log.md, *Paired rounds*).
// A parallel_for issued from inside a task runs serially on the calling worker (no nested
// parallelism, no deadlock).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
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
///
/// Waking a parked thread costs tens of microseconds on a virtual machine (the futex wake sends an
/// inter-processor interrupt to a halted vCPU, on both sides of a job), which is a sizeable share
/// of a millisecond-long rollout. So a worker that finished a job polls for the next one for up to
/// `worker_spin` before it parks, and the caller polls for the workers' completion for up to
/// `caller_spin` before it blocks: back-to-back jobs (generations, repeated evaluations) then pay
/// no wake-up at all.
class thread_pool {
 public:
  /// How long a worker polls for the next job, and the caller for the workers' completion, before
  /// it blocks.
  static constexpr std::chrono::microseconds worker_spin{200}, caller_spin{50};

  thread_pool() = default;
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      std::lock_guard lock(m_);
      stop_.store(true, std::memory_order_release);
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

  /// Runs `work` on the calling thread and on up to `helpers` pool workers at once, and returns
  /// when all of them have returned. A worker joins the job only until the caller's own `work`
  /// returns: one that has not started by then (descheduled on a busy machine) skips it instead of
  /// holding the caller up, so `work` must be able to finish the job alone (parallel_for deals its
  /// tasks dynamically). `work` must not throw (parallel_for catches for it). Jobs from different
  /// calling threads are serialised.
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
      finished_.store(0, std::memory_order_relaxed);
      const std::uint64_t epoch = epoch_.load(std::memory_order_relaxed) + 1;
      joins_.store(join_tag(epoch), std::memory_order_relaxed);
      epoch_.store(epoch, std::memory_order_release);
    }
    wake_.notify_all();  // no system call when every worker is still polling
    in_task_flag() = true;
    work();
    in_task_flag() = false;
    // close the job to late workers, then wait for those that joined
    const std::uint64_t joined = joins_.fetch_or(join_closed) & join_count;
    auto done = [&] { return finished_.load() == joined; };
    if (!poll(caller_spin, done)) {
      std::unique_lock lock(m_);
      done_.wait(lock, done);
    }
    std::lock_guard lock(m_);
    job_ = nullptr;
  }

 private:
  static bool& in_task_flag() {
    thread_local bool flag = false;
    return flag;
  }

  // joins_: the job's epoch (low 32 bits) in the high half, join_closed once the caller's own work
  // has returned, and the number of workers that joined (they may touch the job) below it.
  static constexpr std::uint64_t join_closed = std::uint64_t(1) << 31, join_count = join_closed - 1;
  static std::uint64_t join_tag(std::uint64_t epoch) { return (epoch & 0xffffffffu) << 32; }

  /// Joins the job of `epoch` unless the caller has closed it (or moved on to another job).
  bool join(std::uint64_t epoch) {
    std::uint64_t s = joins_.load();
    do {
      if ((s & ~(join_closed | join_count)) != join_tag(epoch) || (s & join_closed)) return false;
    } while (!joins_.compare_exchange_weak(s, s + 1));
    return true;
  }

  /// Polls `ready` for up to `time`; true when it became true. (No yielding: on a busy machine a
  /// yield can lose the CPU for a whole time slice.)
  template <class Ready>
  static bool poll(std::chrono::microseconds time, Ready&& ready) {
    const auto deadline = std::chrono::steady_clock::now() + time;
    for (unsigned i = 1;; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return ready();
    }
  }

  void worker_loop(std::size_t id) {
    std::uint64_t seen = 0;
    {
      // A worker started for the current job takes part in it.
      std::lock_guard lock(m_);
      seen = epoch_.load(std::memory_order_relaxed) - 1;
    }
    in_task_flag() = true;
    for (;;) {
      auto news = [&] {
        return stop_.load(std::memory_order_acquire) ||
               epoch_.load(std::memory_order_acquire) != seen;
      };
      const std::function<void()>* job = nullptr;
      std::size_t wanted = 0;
      poll(worker_spin, news);
      {
        std::unique_lock lock(m_);
        wake_.wait(lock, news);
        if (stop_.load(std::memory_order_relaxed)) return;
        seen = epoch_.load(std::memory_order_relaxed);
        job = job_;
        wanted = wanted_;
      }
      if (id >= wanted || !join(seen)) continue;  // not needed, or too late for this job
      (*job)();
      // the caller waits (once it has closed the job) for finished_ == the joined count
      const std::uint64_t finished = finished_.fetch_add(1) + 1, s = joins_.load();
      if ((s & join_closed) && (s & join_count) == finished) {
        std::lock_guard lock(m_);  // so the notification cannot fall between check and wait
        done_.notify_one();
      }
    }
  }

  std::mutex job_m_;  // one job at a time
  std::mutex m_;      // guards job_ and wanted_; epoch_ changes and waits happen under it
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void()>* job_ = nullptr;
  std::size_t wanted_ = 0;
  std::atomic<std::uint64_t> finished_{0}, joins_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<bool> stop_{false};
};

/// Runs fn(i) for i in [0, n) on `threads` threads (<= 0: all hardware threads): the caller plus
/// up to threads − 1 pool workers (those that start before the caller runs out of tasks; see
/// thread_pool::run); tasks are dealt dynamically. The first exception thrown by a task is
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
