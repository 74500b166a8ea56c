#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simplestreams/catalog.hpp"

namespace lxcdn::simplestreams {

// Pure decisions about what under ROOT/images/ may be published. Each returns the reason a thing
// is left out (shown to the operator after its path), or nullopt / an empty reason when it is fine.

// True if `arch` is an architecture name or alias known to LXD's shared/osarch/architectures.go
// (amd64, x86_64, arm64, armhf, ...). LXD and Incus silently drop products with any other arch
// (simplestreams-spec 1.3). Incus-only aliases (x86_64_v1..v4) are not accepted: LXD drops them.
bool is_lxd_architecture(std::string_view arch);

// Why `name` cannot be an os, release, arch or variant directory: it must be non-empty, must not
// start with '.', and may hold only [A-Za-z0-9._+-], because it ends up in product names
// (':'-separated), aliases (','-separated, '/'-joined) and item paths.
std::optional<std::string> name_problem(std::string_view name);

// Why `serial` cannot be a version key. The clients drop versions whose first 8 characters are not
// a valid YYYYMMDD date (ToLXD/ToAPI, simplestreams-spec 1.3); the rest may be [A-Za-z0-9._:+-],
// so lxc-ci's "20240101_05:24" is accepted.
std::optional<std::string> serial_problem(std::string_view serial);

// What a build directory holds, by file name, as far as the selection below cares.
enum class entry_type { regular, symlink, other };

// The files of one build directory that get published.
struct build_selection {
  std::string metadata;          // "incus.tar.xz" or "lxd.tar.xz"; empty when skipped
  std::vector<root_kind> roots;  // in root_formats order; empty when skipped
  std::string skip_reason;       // non-empty: the whole build is left out, and why
};

// Decides which files of a build directory to publish, from its entries (name -> type; names
// other than the metadata and root file names are ignored). The metadata is incus.tar.xz, or
// lxd.tar.xz when there is no incus.tar.xz; the roots are whichever of rootfs.squashfs,
// disk.qcow2 and rootfs.tar.xz exist. Skipped, with the reason: no metadata or no root
// (incomplete build), or one of those names is a symlink or not a regular file (the origin serves
// only regular files inside the tree).
build_selection select_build_files(const std::map<std::string, entry_type>& entries);

}  // namespace lxcdn::simplestreams
