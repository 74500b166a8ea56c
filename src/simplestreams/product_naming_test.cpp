#include "simplestreams/product_naming.hpp"

#include <gtest/gtest.h>

namespace lxcdn::simplestreams {
namespace {

TEST(ProductNaming, ProductNameJoinsWithColons) {
  EXPECT_EQ(product_name("debian", "12", "amd64", "default"), "debian:12:amd64:default");
}

TEST(ProductNaming, DefaultVariantAlsoGetsTheShortAlias) {
  EXPECT_EQ(product_aliases("debian", "12", "default"), "debian/12/default,debian/12");
  EXPECT_EQ(product_aliases("ubuntu", "24.04", "cloud"), "ubuntu/24.04/cloud");
  // Only the exact name "default" counts.
  EXPECT_EQ(product_aliases("alpine", "3.19", "defaults"), "alpine/3.19/defaults");
}

TEST(ProductNaming, OsTitleMatchesPythonTitle) {
  EXPECT_EQ(os_title("debian"), "Debian");
  EXPECT_EQ(os_title("almalinux"), "Almalinux");
  EXPECT_EQ(os_title("centos-stream"), "Centos-Stream");
  EXPECT_EQ(os_title("openEuler"), "Openeuler");
  EXPECT_EQ(os_title("a1b_c"), "A1B_C");
  EXPECT_EQ(os_title(""), "");
}

}  // namespace
}  // namespace lxcdn::simplestreams
