#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcdn::simplestreams {

// The root (rootfs or disk) formats a build directory may hold, in the order their items are
// listed. Each is paired with the build's metadata file to make one image; the pair's fingerprint
// is sha256(metadata bytes ‖ root bytes) and goes into `combined_field` on the metadata items
// (simplestreams-spec 1.4; ToLXD in LXD's shared/simplestreams/products.go).
enum class root_kind { squashfs, disk_kvm, root_tar_xz };

struct root_format {
  root_kind kind;
  std::string_view file_name;       // name in the build directory
  std::string_view item_key;        // key in the version's `items` map (as lxc-ci names it)
  std::string_view ftype;           // what the clients match on
  std::string_view combined_field;  // fingerprint field on the metadata items
};

inline constexpr std::array<root_format, 3> root_formats{{
    {root_kind::squashfs, "rootfs.squashfs", "root.squashfs", "squashfs",
     "combined_squashfs_sha256"},
    {root_kind::disk_kvm, "disk.qcow2", "disk.qcow2", "disk-kvm.img",
     "combined_disk-kvm-img_sha256"},
    {root_kind::root_tar_xz, "rootfs.tar.xz", "root.tar.xz", "root.tar.xz",
     "combined_rootxz_sha256"},
}};

const root_format& format_of(root_kind kind);

// One file of the published tree, as the index describes it.
struct file_digest {
  std::string path;  // relative to ROOT, '/'-separated, e.g. "images/debian/12/.../incus.tar.xz"
  std::uint64_t size = 0;  // exact byte count
  std::string sha256;      // lowercase hex
};

struct root_item {
  root_kind kind = root_kind::squashfs;
  file_digest file;
  std::string combined_sha256;  // lowercase hex sha256(metadata bytes ‖ root bytes)
};

// A squashfs delta (xdelta3 VCDIFF) from an earlier version of the same product to this one's
// rootfs.squashfs; item key "delta-<base_serial>.vcdiff", ftype "squashfs.vcdiff" (spec 1.4).
struct delta_item {
  std::string base_serial;  // `delta_base`: a version listed in the same product
  file_digest file;
};

// One build directory (one version of a product) that made it into the index.
struct build {
  std::string dir;       // relative to ROOT, for messages: "images/debian/12/amd64/default/S"
  file_digest metadata;  // incus.tar.xz (or lxd.tar.xz), published under both ftypes
  std::vector<root_item> roots;  // at least one, in root_formats order
  std::vector<delta_item> deltas;  // `lxcdn publish` only; `lxcdn index` lists none
};

struct product {
  std::string os;  // directory names, as found under images/
  std::string release;
  std::string arch;
  std::string variant;
  std::map<std::string, build> versions;  // serial -> build; never empty in a catalog
  // Set by `lxcdn publish` from its alias policy; unset: product_aliases() (product_naming.hpp).
  std::optional<std::string> aliases;
  std::map<std::string, std::string> requirements;  // `requirements`; string values (spec 1.3)
};

// Everything the index will list: product name ("os:release:arch:variant") -> product.
// A plain value; std::map keeps products and versions in byte order, which is what makes the
// rendered JSON deterministic.
struct catalog {
  std::map<std::string, product> products;
};

// The clients resolve an image by fingerprint prefix and fail with "More than one match" when two
// entries anywhere in the stream share one (simplestreams-spec 1.4, "Uniqueness"). Returns nullopt
// if every combined fingerprint in `c` is unique, otherwise a message naming the fingerprint and
// both build directories (and root files) that produce it.
std::optional<std::string> find_duplicate_fingerprint(const catalog& c);

}  // namespace lxcdn::simplestreams
