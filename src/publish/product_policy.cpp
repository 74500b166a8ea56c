#include "publish/product_policy.hpp"

#include <algorithm>

namespace lxcdn::publish {

std::string product_aliases(const alias_settings& a, std::string_view os, std::string_view release,
                            std::string_view variant) {
  std::string os_s(os);
  auto dv = a.os_default_variant.find(os_s);
  const std::string& default_variant =
      dv != a.os_default_variant.end() ? dv->second : a.default_variant;
  bool is_default = variant == default_variant;

  std::vector<std::string> releases{std::string(release)};
  if (auto extra = a.release_names.find(os_s + "/" + std::string(release));
      extra != a.release_names.end()) {
    releases.push_back(extra->second);
  }
  std::vector<std::string> out;
  auto add = [&](std::string alias) {
    if (std::ranges::find(out, alias) == out.end()) {
      out.push_back(std::move(alias));
    }
  };
  for (const auto& r : releases) {
    add(os_s + "/" + r + "/" + std::string(variant));
    if (is_default) {
      add(os_s + "/" + r);
    }
  }
  if (release == "current") {
    add(os_s + "/" + std::string(variant));
    if (is_default) {
      add(os_s);
    }
  }
  std::string joined;
  for (const auto& alias : out) {
    joined += (joined.empty() ? "" : ",") + alias;
  }
  return joined;
}

std::map<std::string, std::string> product_requirements(const std::vector<requirement_rule>& rules,
                                                        std::string_view os,
                                                        std::string_view release,
                                                        std::string_view variant) {
  std::string name = std::string(os) + "/" + std::string(release) + "/" + std::string(variant);
  std::map<std::string, std::string> out;
  for (const auto& rule : rules) {
    const auto& m = rule.match;
    bool applies = name == m || (name.starts_with(m) && (m.ends_with('/') || name[m.size()] == '/'));
    if (applies) {
      for (const auto& [k, v] : rule.set) {
        out[k] = v;
      }
    }
  }
  return out;
}

}  // namespace lxcdn::publish
