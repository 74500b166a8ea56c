#include "core/sharded_counters.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/snapshot_cell.hpp"

namespace lxcdn {
namespace {

TEST(ShardedCounters, SumsEveryThreadsAdditions) {
  sharded_counters c(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {  // more threads than shards: shared shards stay exact
    threads.emplace_back([&c] {
      for (int i = 0; i < 1000; ++i) {
        c.add(1);
        c.add(4, 2);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.sum(0), 0u);
  EXPECT_EQ(c.sum(1), 20000u);
  EXPECT_EQ(c.sum(4), 40000u);
  EXPECT_EQ(c.total(), 60000u);
}

TEST(SnapshotCell, LocalSeesEveryStore) {
  snapshot_cell<int> a(std::make_shared<const int>(1));
  snapshot_cell<int> b(std::make_shared<const int>(10));
  EXPECT_EQ(a.local(), 1);
  EXPECT_EQ(b.local(), 10);  // another cell of the same type replaces the thread's cache
  a.store(std::make_shared<const int>(2));
  EXPECT_EQ(a.local(), 2);
  EXPECT_EQ(*a.load(), 2);
  std::thread([&] { EXPECT_EQ(a.local(), 2); }).join();
  EXPECT_EQ(b.local(), 10);
}

}  // namespace
}  // namespace lxcdn
