#include "core/sharded_counters.hpp"

namespace lxcdn {

namespace {
constexpr std::size_t per_line = 64 / sizeof(std::atomic<std::uint64_t>);
}

sharded_counters::sharded_counters(std::size_t cells)
    : cells_(cells), stride_((cells + per_line - 1) / per_line * per_line + per_line),
      values_(std::make_unique<std::atomic<std::uint64_t>[]>(shards * stride_)) {}

std::uint64_t sharded_counters::sum(std::size_t cell) const noexcept {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < shards; ++i) {
    s += values_[i * stride_ + cell].load(std::memory_order_relaxed);
  }
  return s;
}

std::uint64_t sharded_counters::total() const noexcept {
  std::uint64_t s = 0;
  for (std::size_t c = 0; c < cells_; ++c) {
    s += sum(c);
  }
  return s;
}

std::size_t sharded_counters::shard_of_this_thread() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % shards;
  return mine;
}

}  // namespace lxcdn
