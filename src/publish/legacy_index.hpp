#pragma once

#include <string>
#include <vector>

#include "publish/build_identity.hpp"

namespace lxcdn::publish {

// The legacy LXC index, meta/1.0/index-system (and index-user, the same list), read by LXC's
// `lxc-create -t download` (templates/lxc-download.in): one line per product,
//   <os>;<release>;<arch>;<variant>;<serial>;/images/<os>/<release>/<arch>/<variant>/<serial>/
// from which it fetches meta.tar.xz and rootfs.tar.xz. The template greps the product's prefix
// and uses the whole match as one URL, so each product has exactly one line: its newest build
// holding both files. `builds` are the listed builds that hold meta.tar.xz and rootfs.tar.xz, in
// any order. Lines are sorted. Pure.
std::string render_legacy_index(const std::vector<build_id>& builds);

}  // namespace lxcdn::publish
