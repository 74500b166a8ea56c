#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::publish {

// Which product and version a build is: the directory names of
// images/<os>/<release>/<arch>/<variant>/<serial>/, the layout both the incoming directory and the
// published tree use. A value.
struct build_id {
  std::string os;
  std::string release;
  std::string arch;  // Debian name (amd64, arm64, ...), as in product names
  std::string variant;
  std::string serial;

  // "os/release/arch/variant/serial", the build's path below images/.
  std::string path() const;
  // "os:release:arch:variant", the product name in images.json.
  std::string product() const;
  auto operator<=>(const build_id&) const = default;
};

// The identity from the last five components of `dir` (trailing '/' ignored). Returns the
// reason it cannot be one when a component fails the simplestreams naming rules (name_problem,
// serial_problem, is_lxd_architecture in simplestreams/build_rules.hpp) or there are fewer than
// five components.
struct identity_result {
  std::optional<build_id> id;
  std::string problem;  // set when id is empty
};
identity_result identity_from_path(const std::filesystem::path& dir);

// True if `a` and `b` name the same architecture: equal, or a Debian name and the kernel name
// distrobuilder writes into metadata.yaml's top-level `architecture` (amd64/x86_64, arm64/aarch64,
// armhf/armv7l, armel/armv6l, i386/i686, ppc64el/ppc64le, loong64/loongarch64).
bool same_architecture(std::string_view a, std::string_view b);

}  // namespace lxcdn::publish
