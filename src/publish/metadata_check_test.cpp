#include "publish/metadata_check.hpp"

#include <gtest/gtest.h>

namespace lxcdn::publish {
namespace {

const build_id id{"debian", "bookworm", "amd64", "default", "20240101_05:24"};

const char* good = R"(architecture: x86_64
creation_date: 1704086640
expiry_date: 1706678640
properties:
  architecture: amd64
  description: Debian bookworm amd64 (20240101_05:24)
  os: Debian
  release: bookworm
  serial: "20240101_05:24"
  variant: default
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(MetadataProblem, Table) {
  const std::pair<std::string, const char*> cases[] = {
      {good, nullptr},
      {replaced(good, "x86_64", "amd64"), nullptr},
      {replaced(good, "x86_64", "aarch64"), "architecture 'aarch64' does not match"},
      {replaced(good, "architecture: x86_64\n", ""), "architecture missing"},
      {replaced(good, "creation_date: 1704086640", "creation_date: yesterday"), "creation_date"},
      {replaced(good, "creation_date: 1704086640\n", ""), "creation_date missing"},
      {replaced(good, "  os: Debian", "  os: Ubuntu"), "properties.os 'Ubuntu'"},
      {replaced(good, "  release: bookworm", "  release: trixie"), "properties.release"},
      {replaced(good, "  architecture: amd64", "  architecture: arm64"),
       "properties.architecture 'arm64'"},
      {replaced(good, "  variant: default", "  variant: cloud"), "properties.variant 'cloud'"},
      {replaced(good, "\"20240101_05:24\"", "\"20240102_05:24\""), "properties.serial"},
      {replaced(good, "  release: bookworm\n", ""), "properties.release missing"},
      {"just text", "not a mapping"},
      {"a: [", "not valid YAML"},
  };
  for (const auto& [text, problem] : cases) {
    auto got = metadata_problem(text, id);
    if (problem == nullptr) {
      EXPECT_FALSE(got) << *got;
    } else {
      ASSERT_TRUE(got) << problem;
      EXPECT_NE(got->find(problem), std::string::npos) << *got;
    }
  }
}

}  // namespace
}  // namespace lxcdn::publish
