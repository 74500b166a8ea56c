#include "http/range.hpp"

#include <gtest/gtest.h>

namespace lxcdn::http {
namespace {

struct range_case {
  const char* header;
  std::uint64_t size;
  range_kind kind;
  std::uint64_t first;
  std::uint64_t last;
};

TEST(ResolveRange, Table) {
  const range_case cases[] = {
      {"bytes=0-99", 1000, range_kind::partial, 0, 99},
      {"bytes=100-", 1000, range_kind::partial, 100, 999},
      {"bytes=-100", 1000, range_kind::partial, 900, 999},
      {"bytes=-5000", 1000, range_kind::partial, 0, 999},
      {"bytes=990-5000", 1000, range_kind::partial, 990, 999},
      {"BYTES=1-1", 1000, range_kind::partial, 1, 1},
      {" bytes = 5 - 9 ", 1000, range_kind::full, 0, 0},
      {"bytes= 5-9", 1000, range_kind::partial, 5, 9},
      {"bytes=999-999", 1000, range_kind::partial, 999, 999},
      {"bytes=1000-", 1000, range_kind::unsatisfiable, 0, 0},
      {"bytes=1000-2000", 1000, range_kind::unsatisfiable, 0, 0},
      {"bytes=-0", 1000, range_kind::unsatisfiable, 0, 0},
      {"bytes=0-", 0, range_kind::unsatisfiable, 0, 0},
      {"bytes=-1", 0, range_kind::unsatisfiable, 0, 0},
      {"bytes=9-5", 1000, range_kind::full, 0, 0},
      {"bytes=0-1,5-6", 1000, range_kind::full, 0, 0},
      {"items=0-1", 1000, range_kind::full, 0, 0},
      {"bytes=", 1000, range_kind::full, 0, 0},
      {"bytes=-", 1000, range_kind::full, 0, 0},
      {"bytes=a-b", 1000, range_kind::full, 0, 0},
      {"bytes=99999999999999999999-", 1000, range_kind::full, 0, 0},
      {"bytes=+1-2", 1000, range_kind::full, 0, 0},
      {"", 1000, range_kind::full, 0, 0},
  };
  for (auto& c : cases) {
    auto r = resolve_range(c.header, c.size);
    EXPECT_EQ(r.kind, c.kind) << c.header;
    if (c.kind == range_kind::partial) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.last, c.last) << c.header;
      EXPECT_EQ(r.length(), c.last - c.first + 1);
    }
  }
}

}  // namespace
}  // namespace lxcdn::http
