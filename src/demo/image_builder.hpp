#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "demo/sample_images.hpp"

namespace lxcdn::demo {

// The external programs an image build runs, resolved in $PATH once.
struct build_tools {
  std::filesystem::path tar;         // GNU tar (package tar)
  std::filesystem::path xz;          // xz-utils
  std::filesystem::path mksquashfs;  // squashfs-tools
  std::filesystem::path busybox;     // a statically linked busybox (busybox-static)
};

// Finds tar, xz, mksquashfs and busybox. Throws std::runtime_error naming the first missing tool
// and its Debian package, or saying that the busybox found is dynamically linked (it would not run
// in a root filesystem without a C library).
build_tools find_build_tools();

// True if the ELF executable at `path` has no program interpreter (PT_INTERP), i.e. is static.
// Throws std::runtime_error if the file cannot be read or is not a 64-bit ELF file.
bool is_static_elf(const std::filesystem::path& path);

// The two files of one built image.
struct built_image {
  std::filesystem::path metadata;  // .../incus.tar.xz
  std::filesystem::path rootfs;    // .../rootfs.squashfs
};

// Builds `image` into image_directory(www, image): incus.tar.xz (metadata.yaml + templates/, tar
// sorted by name, owner 0, every mtime = creation_date, then xz -T1) and rootfs.squashfs
// (mksquashfs of `rootfs` with -all-root, -all-time/-mkfs-time = creation_date, xz). The same
// inputs and tool versions give the same bytes. Staging happens under `scratch` (removed after);
// the finished files are renamed into place, so a reader sees old or new files, never partial ones.
// Throws std::runtime_error (tool failures name the tool) or std::filesystem::filesystem_error.
built_image build_image(const image_spec& image, const std::vector<rootfs_entry>& rootfs,
                        const std::filesystem::path& www, const std::filesystem::path& scratch,
                        const build_tools& tools);

}  // namespace lxcdn::demo
