#include "publish/signed_body.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

TEST(BreakJsonLines, OnlyCommasOutsideStrings) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"a":1,"b":[2,3]})", "{\"a\":1,\n\"b\":[2,\n3]}"},
      {R"({"a,b":"c\",d"})", R"({"a,b":"c\",d"})"},
      {R"(["x\\",1])", "[\"x\\\\\",\n1]"},
      {"", ""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(break_json_lines(in), out) << in;
  }
}

TEST(SignedBody, TheIndexPointsAtTheClearsignedProductsFile) {
  const char* index = R"({"index":{"images":{"path":"streams/v1/images.json","products":["a"]}}})";
  EXPECT_EQ(signed_body(index, true),
            "{\"index\":{\"images\":{\"path\":\"streams/v1/images.sjson\",\n\"products\":[\"a\"]}}}");
  EXPECT_EQ(signed_body(R"({"path":"streams/v1/images.json"})", false),
            R"({"path":"streams/v1/images.json"})");
}

}  // namespace
}  // namespace lxcdn::publish
