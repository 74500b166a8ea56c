#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lxcdn {

// A fixed number of monotonically increasing counters ("cells"), bumped from many threads on the
// request path and summed rarely (a /metrics scrape). Each thread writes its own shard, so two
// I/O threads never bounce a cache line between them; a reader sums every shard. Lock-free; any
// thread may call any member. Sums are not a consistent cut across cells (Prometheus is fine
// with that).
class sharded_counters {
 public:
  static constexpr std::size_t shards = 16;  // threads beyond this share shards (still correct)

  explicit sharded_counters(std::size_t cells);

  void add(std::size_t cell, std::uint64_t n = 1) noexcept {
    values_[shard_of_this_thread() * stride_ + cell].fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t sum(std::size_t cell) const noexcept;
  std::uint64_t total() const noexcept;  // of every cell
  std::size_t cells() const { return cells_; }

  // This thread's shard: assigned round-robin the first time a thread asks.
  static std::size_t shard_of_this_thread() noexcept;

 private:
  std::size_t cells_;
  std::size_t stride_;  // cells rounded up to a cache line, plus one line of padding
  std::unique_ptr<std::atomic<std::uint64_t>[]> values_;  // shards x stride
};

}  // namespace lxcdn
