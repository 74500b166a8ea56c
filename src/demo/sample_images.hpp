#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

// What the demo publishes, as values: the image list, each image's metadata.yaml and templates,
// and the file list of its root filesystem. Pure functions; building the files is image_builder's.

namespace lxcdn::demo {

// Which BusyBox applets a root filesystem links to /bin/busybox.
enum class applet_set {
  all,   // every applet the host's busybox lists (`busybox --list-full`)
  tiny,  // just enough to boot, inspect and stop: see tiny_applets()
};

// One image: a product (os/release/arch/variant) at one serial.
struct image_spec {
  std::string os;                  // "busybox"; first path component and metadata property os
  std::string release;             // "1.35"
  std::string arch;                // Debian architecture name as in the tree and the index: "amd64"
  std::string variant;             // "default", "tiny"
  std::string serial;              // "YYYYMMDD_hh:mm" (lxc-ci style, hence ':' in paths)
  std::int64_t creation_date = 0;  // unix seconds; also every file's mtime in both archives
  applet_set applets = applet_set::all;
  std::string note;  // appended to the description, e.g. why it cannot boot here
};

// The demo's images, all built at `build_time` (unix seconds): busybox/1.35 amd64 default,
// arm64 default (carries the same amd64 binary: listed, not bootable on arm64) and amd64 tiny.
// Their metadata or root filesystems differ pairwise, so their fingerprints are unique.
std::vector<image_spec> demo_images(std::int64_t build_time);

// "YYYYMMDD_hh:mm" in UTC, as lxc-ci's `date -u +%Y%m%d_%H:%M`.
std::string format_serial(std::int64_t unix_seconds);

// Kernel (LXD) architecture name for a Debian one: amd64 -> x86_64, arm64 -> aarch64,
// armhf -> armv7l, i386 -> i686, ppc64el -> ppc64le, s390x, riscv64. Throws std::invalid_argument
// for anything else.
std::string kernel_architecture(std::string_view debian_arch);

// DIR/images/<os>/<release>/<arch>/<variant>/<serial> below the published root `www`.
std::filesystem::path image_directory(const std::filesystem::path& www, const image_spec& image);

// The image's metadata.yaml as distrobuilder writes it: architecture (kernel name), creation_date,
// expiry_date (creation + 10 years; distrobuilder's default is 30 days), properties (architecture,
// description, name, os, release, serial, variant) and templates (hostname.tpl for /etc/hostname,
// hosts.tpl for /etc/hosts, both on create and copy).
std::string render_metadata_yaml(const image_spec& image);

// One file of the metadata tarball besides metadata.yaml: path relative to the tarball root.
struct text_file {
  std::string path;  // "templates/hostname.tpl"
  std::string content;
};

// templates/hostname.tpl and templates/hosts.tpl (pongo2 syntax, rendered by LXD/Incus).
std::vector<text_file> metadata_templates();

// One entry of a root filesystem. Paths are relative ("bin/sh"), parents listed before children.
struct rootfs_entry {
  enum class kind { directory, file, symlink, host_file };
  kind type = kind::directory;
  std::string path;
  unsigned mode = 0755;  // permission bits (directories and files)
  std::string data;      // file: its content; symlink: its target; host_file: the host path to copy
};

// Applets of the tiny set, as `busybox --list-full` names them.
const std::vector<std::string>& tiny_applets();

// The root filesystem of `image`: the standard directories (dev proc sys tmp root run etc var ...),
// bin/busybox (copied from `busybox_path`), one symlink to /bin/busybox per applet of
// `host_applets` (the lines of `busybox --list-full`; filtered to tiny_applets() for the tiny set;
// bin/busybox itself and top-level names like linuxrc are left out), and etc/inittab, passwd,
// group, shadow, hostname, hosts, os-release, profile. Sorted by path. Throws std::invalid_argument
// if `host_applets` lacks sbin/init or bin/sh.
std::vector<rootfs_entry> rootfs_entries(const image_spec& image,
                                         const std::vector<std::string>& host_applets,
                                         const std::filesystem::path& busybox_path);

// The lines of `busybox --list-full` output, without empty lines.
std::vector<std::string> parse_applet_list(std::string_view list_full_output);

}  // namespace lxcdn::demo
