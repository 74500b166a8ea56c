#pragma once

// Helpers for the demo's unit tests only.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lxcdn::demo::test_support {

// The whole file's bytes ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace lxcdn::demo::test_support
