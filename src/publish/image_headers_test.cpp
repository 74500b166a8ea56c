#include "publish/image_headers.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace lxcdn::publish {
namespace {

void put_le(std::string& b, std::size_t off, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    b[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

void put_be(std::string& b, std::size_t off, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    b[off + n - 1 - i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

// A superblock as mksquashfs 4.5 writes it for a small tree: 128 KiB blocks, 4096 bytes used.
std::string good_squashfs() {
  std::string b(96, '\0');
  b.replace(0, 4, "hsqs");
  put_le(b, 4, 12, 4);            // inodes
  put_le(b, 12, 131072, 4);       // block_size
  put_le(b, 20, 4, 2);            // compression xz
  put_le(b, 22, 17, 2);           // block_log
  put_le(b, 28, 4, 2);            // major
  put_le(b, 40, 4000, 8);         // bytes_used
  put_le(b, 48, 3990, 8);         // id table
  put_le(b, 56, ~0ull, 8);        // xattr: absent
  put_le(b, 64, 96, 8);           // inode table
  put_le(b, 72, 500, 8);          // directory table
  put_le(b, 80, 3900, 8);         // fragment table
  put_le(b, 88, ~0ull, 8);        // export: absent
  return b;
}

std::string good_qcow2() {
  std::string b(104, '\0');
  b.replace(0, 4, std::string("QFI\xfb", 4));
  put_be(b, 4, 3, 4);
  put_be(b, 20, 16, 4);           // 64 KiB clusters
  put_be(b, 24, 1ull << 30, 8);   // 1 GiB virtual
  put_be(b, 40, 3 * 65536, 8);    // L1
  put_be(b, 48, 65536, 8);        // refcount table
  put_be(b, 100, 104, 4);
  return b;
}

struct header_case {
  const char* name;
  std::function<void(std::string&)> mutate;
  std::uint64_t file_size;
  const char* problem;  // substring; nullptr = sound
};

using check_fn = std::optional<std::string> (*)(std::string_view, std::uint64_t);

template <std::size_t N>
void run_table(const header_case (&cases)[N], const std::string& good, check_fn check) {
  for (const auto& c : cases) {
    auto h = good;
    c.mutate(h);
    auto problem = check(h, c.file_size);
    if (c.problem == nullptr) {
      EXPECT_FALSE(problem) << c.name << ": " << *problem;
    } else {
      ASSERT_TRUE(problem) << c.name;
      EXPECT_NE(problem->find(c.problem), std::string::npos) << c.name << ": " << *problem;
    }
  }
}

TEST(SquashfsProblem, Table) {
  const header_case cases[] = {
      {"sound", [](std::string&) {}, 4096, nullptr},
      {"bad magic", [](std::string& b) { b[0] = 'x'; }, 4096, "magic"},
      {"version 3", [](std::string& b) { put_le(b, 28, 3, 2); }, 4096, "version 3"},
      {"odd block size", [](std::string& b) { put_le(b, 12, 100000, 4); }, 4096, "block size"},
      {"block_log disagrees", [](std::string& b) { put_le(b, 22, 16, 2); }, 4096, "block size"},
      {"no inodes", [](std::string& b) { put_le(b, 4, 0, 4); }, 4096, "no inodes"},
      {"truncated file", [](std::string&) {}, 3000, "truncated"},
      {"inode table beyond end", [](std::string& b) { put_le(b, 64, 5000, 8); }, 8192,
       "inode table"},
      {"short header", [](std::string& b) { b.resize(40); }, 4096, "too short"},
  };
  run_table(cases, good_squashfs(), squashfs_problem);
}

TEST(Qcow2Problem, Table) {
  const header_case cases[] = {
      {"sound", [](std::string&) {}, 1 << 20, nullptr},
      {"version 2 short header", [](std::string& b) { put_be(b, 4, 2, 4); b.resize(72); }, 1 << 20,
       nullptr},
      {"bad magic", [](std::string& b) { b[3] = 'x'; }, 1 << 20, "magic"},
      {"version 4", [](std::string& b) { put_be(b, 4, 4, 4); }, 1 << 20, "version 4"},
      {"cluster bits", [](std::string& b) { put_be(b, 20, 30, 4); }, 1 << 20, "cluster_bits"},
      {"zero size", [](std::string& b) { put_be(b, 24, 0, 8); }, 1 << 20, "virtual size"},
      {"encrypted", [](std::string& b) { put_be(b, 32, 1, 4); }, 1 << 20, "encrypted"},
      {"backing file", [](std::string& b) { put_be(b, 8, 104, 8); }, 1 << 20, "backing"},
      {"truncated", [](std::string&) {}, 100000, "truncated"},
      {"unaligned L1", [](std::string& b) { put_be(b, 40, 1000, 8); }, 1 << 20, "L1"},
      {"dirty", [](std::string& b) { put_be(b, 72, 1, 8); }, 1 << 20, "dirty"},
      {"corrupt", [](std::string& b) { put_be(b, 72, 2, 8); }, 1 << 20, "corrupt"},
      {"short v3 header length", [](std::string& b) { put_be(b, 100, 72, 4); }, 1 << 20,
       "header_length"},
  };
  run_table(cases, good_qcow2(), qcow2_problem);
}

}  // namespace
}  // namespace lxcdn::publish
