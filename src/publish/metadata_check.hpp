#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "publish/build_identity.hpp"

namespace lxcdn::publish {

// Checks the text of a build's metadata.yaml (the one inside incus.tar.xz / lxd.tar.xz, written
// by distrobuilder) against the build's identity. Pure. Returns nullopt when it agrees, otherwise
// the first problem, naming the key:
//   - it must parse as a YAML mapping;
//   - `architecture` present and the same architecture as the path (kernel or Debian name);
//   - `creation_date` a positive integer (unix seconds);
//   - `properties` a mapping with `os`, `release` and `architecture`; `os` equal to the path's os
//     ignoring ASCII case (distrobuilder writes "Debian" for debian/), `release` equal,
//     `architecture` the same architecture; `variant` and `serial`, when present, equal.
std::optional<std::string> metadata_problem(std::string_view yaml_text, const build_id& id);

}  // namespace lxcdn::publish
