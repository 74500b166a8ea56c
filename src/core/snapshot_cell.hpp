#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace lxcdn {

// One immutable snapshot of T, replaced whole (STYLE.md 8: reloadable data is swapped as a
// snapshot; readers keep the one they started with). Internally synchronized.
//
// Why not a plain mutex around a shared_ptr: the origin reads the snapshot on every redirect,
// from every I/O thread, and a shared lock plus the shared_ptr's reference count are two cache
// lines all threads write to. local() reads one atomic generation number; only after a store()
// does a thread take the mutex once to pick up the new snapshot.
template <class T>
class snapshot_cell {
 public:
  explicit snapshot_cell(std::shared_ptr<const T> first) : current_(std::move(first)) {}
  snapshot_cell(const snapshot_cell&) = delete;
  snapshot_cell& operator=(const snapshot_cell&) = delete;

  // Publishes `next`; readers see it on their next load()/local().
  void store(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }

  // The current snapshot, shared (keeps it alive as long as the caller holds it).
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  // The current snapshot as this thread last saw it, refreshed when a store() happened since.
  // The reference stays valid until this thread calls local() again on any snapshot_cell<T>, so
  // use it within one synchronous step (never across a co_await).
  const T& local() const {
    thread_local cache c;
    auto gen = generation_.load(std::memory_order_acquire);
    if (c.owner != id_ || c.generation != gen || !c.value) {
      std::lock_guard lock(mutex_);
      c.owner = id_;
      c.generation = generation_.load(std::memory_order_relaxed);
      c.value = current_;
    }
    return *c.value;
  }

 private:
  struct cache {
    std::uint64_t owner = 0;
    std::uint64_t generation = 0;
    std::shared_ptr<const T> value;
  };
  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> ids{0};
    return ++ids;
  }

  const std::uint64_t id_ = next_id();  // tells cells apart in the thread-local cache
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;  // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};  // bumped (under mutex_) by every store()
};

}  // namespace lxcdn
