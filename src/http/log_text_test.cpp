#include "http/log_text.hpp"

#include <gtest/gtest.h>

namespace lxcdn::http {
namespace {

TEST(LogEscape, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(log_escape("/images/debian/12/amd64/default/20250101_05:24/rootfs.squashfs?x=1%20"),
            "/images/debian/12/amd64/default/20250101_05:24/rootfs.squashfs?x=1%20");
  EXPECT_EQ(log_escape("/caf\xC3\xA9"), "/caf\\xC3\\xA9");           // UTF-8 stays readable as bytes
  EXPECT_EQ(log_escape("/\xFF\xFE"), "/\\xFF\\xFE");                  // not UTF-8 at all
  EXPECT_EQ(log_escape("/a b\tc"), "/a\\x20b\\x09c");                 // no field shift
  EXPECT_EQ(log_escape("/\x1B[31mred"), "/\\x1B[31mred");             // no terminal escape
  EXPECT_EQ(log_escape(std::string_view("/\0x", 3)), "/\\x00x");
  EXPECT_EQ(log_escape("/\"q\"\\"), "/\\x22q\\x22\\x5C");             // quoting stays unambiguous
  EXPECT_EQ(log_escape(""), "");
}

}  // namespace
}  // namespace lxcdn::http
