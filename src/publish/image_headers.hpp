#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::publish {

// Pure checks of the fixed-size headers of the root formats a build may hold. `header` is the
// first bytes of the file (at least the sizes below, or the file is reported as truncated) and
// `file_size` its length on disk. Each returns nullopt when the header is sound, otherwise a
// reason for the operator ("squashfs: ...", "qcow2: ...").

// Bytes of header the checks below read.
inline constexpr std::size_t squashfs_superblock_size = 96;
inline constexpr std::size_t qcow2_header_size = 104;

// Squashfs 4.0 superblock (linux fs/squashfs/squashfs_fs.h, little endian): magic "hsqs",
// major version 4, block_size a power of two from 4 KiB to 1 MiB with block_log = log2(block_size),
// at least one inode, bytes_used no larger than the file (mksquashfs pads to 4 KiB, so a file
// shorter than bytes_used was truncated), and every table start inside bytes_used (the optional
// tables may be absent: all ones).
std::optional<std::string> squashfs_problem(std::string_view header, std::uint64_t file_size);

// QCOW2 header (qemu docs/interop/qcow2.txt, big endian): magic "QFI\xfb", version 2 or 3,
// cluster_bits 9..21, a non-zero virtual size, no encryption, no backing file (a published image
// must stand alone), and the L1 and refcount tables cluster-aligned inside the file. Version 3
// also needs header_length >= 104 and no incompatible feature bits we do not know (dirty,
// corrupt: bits 0 and 1 mean the image was not closed cleanly or is marked corrupt).
std::optional<std::string> qcow2_problem(std::string_view header, std::uint64_t file_size);

}  // namespace lxcdn::publish
