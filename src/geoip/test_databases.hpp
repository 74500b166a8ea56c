#pragma once
// Test-only: the .mmdb files tests/tools/write-test-mmdb.pl writes (see its header for what each
// holds), generated once per test process into a fresh temporary directory.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lxcdn::geoip::testing {

// Removes the directory when the test process ends.
struct temporary_directory {
  std::filesystem::path path;
  ~temporary_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline const std::filesystem::path& test_mmdb_dir() {
  static const temporary_directory dir{[] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lxcdn-mmdb-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      ADD_FAILURE() << "mkdtemp failed";
      return std::filesystem::path();
    }
    std::string cmd = std::string("perl '") + LXCDN_WRITE_TEST_MMDB + "' '" + tmpl + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "could not write the test databases: " << cmd
                    << " (needs libmaxmind-db-writer-perl)";
    }
    return std::filesystem::path(tmpl);
  }()};
  return dir.path;
}

inline std::filesystem::path test_mmdb(const char* name) {
  return test_mmdb_dir() / name;
}

}  // namespace lxcdn::geoip::testing
