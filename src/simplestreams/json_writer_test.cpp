#include "simplestreams/json_writer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace lxcdn::simplestreams {
namespace {

TEST(JsonWriter, WritesCompactJson) {
  json_writer w;
  w.begin_object()
      .member("a", "x")
      .key("b")
      .begin_array()
      .integer(0)
      .integer(18446744073709551615u)
      .begin_object()
      .end_object()
      .string("")
      .end_array()
      .key("c")
      .begin_array()
      .end_array()
      .member("d", std::uint64_t{42})
      .end_object();
  EXPECT_EQ(w.take(), R"({"a":"x","b":[0,18446744073709551615,{},""],"c":[],"d":42})");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\x01\x1f/:\xc3\xa9"), R"("a\"b\\c\u000ad\u0001\u001f/:)"
                                                        "\xc3\xa9\"");
}

TEST(JsonWriter, RejectsKeysOutOfByteOrder) {
  json_writer w;
  w.begin_object().member("b", "1");
  EXPECT_THROW(w.key("a"), std::logic_error);
  EXPECT_THROW(w.key("b"), std::logic_error);  // duplicates too
  // Byte order: upper case before lower case, '.' before letters.
  json_writer v;
  EXPECT_NO_THROW(v.begin_object().member("B", "1").member("a", "2").member("a.", "3"));
}

TEST(JsonWriter, RejectsMalformedSequences) {
  EXPECT_THROW(json_writer().take(), std::logic_error);
  EXPECT_THROW(json_writer().begin_object().take(), std::logic_error);
  EXPECT_THROW(json_writer().begin_object().string("x"), std::logic_error);
  EXPECT_THROW(json_writer().begin_array().key("x"), std::logic_error);
  EXPECT_THROW(json_writer().begin_object().key("x").end_object(), std::logic_error);
  EXPECT_THROW(json_writer().begin_array().end_object(), std::logic_error);
  EXPECT_THROW(json_writer().string("x").string("y"), std::logic_error);
}

}  // namespace
}  // namespace lxcdn::simplestreams
