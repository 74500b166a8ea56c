#include "publish/build_identity.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "simplestreams/build_rules.hpp"

namespace lxcdn::publish {

std::string build_id::path() const {
  return os + "/" + release + "/" + arch + "/" + variant + "/" + serial;
}

std::string build_id::product() const {
  return os + ":" + release + ":" + arch + ":" + variant;
}

identity_result identity_from_path(const std::filesystem::path& dir) {
  std::vector<std::string> parts;
  for (const auto& p : dir) {
    if (!p.empty() && p != "/" && p != ".") {
      parts.push_back(p.string());
    }
  }
  if (parts.size() < 5) {
    return {std::nullopt, "not an <os>/<release>/<arch>/<variant>/<serial> directory"};
  }
  build_id id{parts[parts.size() - 5], parts[parts.size() - 4], parts[parts.size() - 3],
              parts[parts.size() - 2], parts[parts.size() - 1]};
  for (auto [what, name] : {std::pair{"os", &id.os}, std::pair{"release", &id.release},
                            std::pair{"arch", &id.arch}, std::pair{"variant", &id.variant}}) {
    if (auto problem = simplestreams::name_problem(*name)) {
      return {std::nullopt, std::string(what) + " '" + *name + "': " + *problem};
    }
  }
  if (!simplestreams::is_lxd_architecture(id.arch)) {
    return {std::nullopt, "arch '" + id.arch + "' is not an architecture LXD knows"};
  }
  if (auto problem = simplestreams::serial_problem(id.serial)) {
    return {std::nullopt, "serial '" + id.serial + "': " + *problem};
  }
  return {std::move(id), ""};
}

bool same_architecture(std::string_view a, std::string_view b) {
  if (a == b) {
    return true;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> pairs{{
      {"amd64", "x86_64"},
      {"arm64", "aarch64"},
      {"armhf", "armv7l"},
      {"armel", "armv6l"},
      {"i386", "i686"},
      {"ppc64el", "ppc64le"},
      {"loong64", "loongarch64"},
  }};
  return std::ranges::any_of(pairs, [&](const auto& p) {
    return (p.first == a && p.second == b) || (p.first == b && p.second == a);
  });
}

}  // namespace lxcdn::publish
