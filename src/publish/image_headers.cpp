#include "publish/image_headers.hpp"

#include <cstring>

namespace lxcdn::publish {

namespace {

std::uint64_t le(std::string_view b, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[off + i])) << (8 * i);
  }
  return v;
}

std::uint64_t be(std::string_view b, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  }
  return v;
}

constexpr std::uint64_t absent_table = ~std::uint64_t{0};

}  // namespace

std::optional<std::string> squashfs_problem(std::string_view h, std::uint64_t file_size) {
  if (h.size() < squashfs_superblock_size) {
    return "squashfs: file too short for a superblock (" + std::to_string(h.size()) + " bytes)";
  }
  if (h.substr(0, 4) != "hsqs") {
    return std::string("squashfs: bad superblock magic (not \"hsqs\")");
  }
  auto inodes = le(h, 4, 4);
  auto block_size = le(h, 12, 4);
  auto block_log = le(h, 22, 2);
  auto major = le(h, 28, 2);
  auto bytes_used = le(h, 40, 8);
  if (major != 4) {
    return "squashfs: version " + std::to_string(major) + " (only 4 is supported)";
  }
  if (block_size < 4096 || block_size > (1u << 20) || (block_size & (block_size - 1)) != 0 ||
      (std::uint64_t{1} << block_log) != block_size) {
    return "squashfs: bad block size " + std::to_string(block_size) + " (log " +
           std::to_string(block_log) + ")";
  }
  if (inodes == 0) {
    return std::string("squashfs: no inodes");
  }
  if (bytes_used < squashfs_superblock_size || bytes_used > file_size) {
    return "squashfs: superblock says " + std::to_string(bytes_used) + " bytes used but the file has " +
           std::to_string(file_size) + " (truncated?)";
  }
  // id, xattr id, inode, directory, fragment and lookup table starts.
  static constexpr const char* names[] = {"id",        "xattr",    "inode",
                                          "directory", "fragment", "export"};
  for (std::size_t i = 0; i < 6; ++i) {
    auto start = le(h, 48 + 8 * i, 8);
    bool optional = i == 1 || i == 4 || i == 5;
    if ((optional && start == absent_table)) {
      continue;
    }
    if (start >= bytes_used) {
      return std::string("squashfs: ") + names[i] + " table starts at " + std::to_string(start) +
             ", beyond the " + std::to_string(bytes_used) + " bytes used";
    }
  }
  return std::nullopt;
}

std::optional<std::string> qcow2_problem(std::string_view h, std::uint64_t file_size) {
  if (h.size() < 72) {
    return "qcow2: file too short for a header (" + std::to_string(h.size()) + " bytes)";
  }
  if (h.substr(0, 4) != std::string_view("QFI\xfb", 4)) {
    return std::string("qcow2: bad magic (not \"QFI\\xfb\")");
  }
  auto version = be(h, 4, 4);
  if (version != 2 && version != 3) {
    return "qcow2: version " + std::to_string(version) + " (2 or 3 expected)";
  }
  auto backing_offset = be(h, 8, 8);
  auto cluster_bits = be(h, 20, 4);
  auto virtual_size = be(h, 24, 8);
  auto crypt = be(h, 32, 4);
  auto l1_offset = be(h, 40, 8);
  auto refcount_offset = be(h, 48, 8);
  if (cluster_bits < 9 || cluster_bits > 21) {
    return "qcow2: bad cluster_bits " + std::to_string(cluster_bits);
  }
  if (virtual_size == 0) {
    return std::string("qcow2: virtual size is 0");
  }
  if (crypt != 0) {
    return std::string("qcow2: encrypted image");
  }
  if (backing_offset != 0) {
    return std::string("qcow2: has a backing file (a published image must stand alone)");
  }
  std::uint64_t cluster = std::uint64_t{1} << cluster_bits;
  for (auto [name, off] : {std::pair{"L1", l1_offset}, std::pair{"refcount", refcount_offset}}) {
    if (off % cluster != 0 || off >= file_size) {
      return std::string("qcow2: ") + name + " table offset " + std::to_string(off) +
             " is not a cluster inside the " + std::to_string(file_size) + "-byte file (truncated?)";
    }
  }
  if (version == 3) {
    if (h.size() < qcow2_header_size) {
      return std::string("qcow2: version 3 header truncated");
    }
    auto incompatible = be(h, 72, 8);
    auto header_length = be(h, 100, 4);
    if (header_length < qcow2_header_size) {
      return "qcow2: header_length " + std::to_string(header_length) + " (at least 104)";
    }
    if (incompatible & 1) {
      return std::string("qcow2: dirty bit set (the image was not closed cleanly)");
    }
    if (incompatible & 2) {
      return std::string("qcow2: marked corrupt");
    }
  }
  return std::nullopt;
}

}  // namespace lxcdn::publish
