#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "publish/publish_config.hpp"

namespace lxcdn::publish {

// Pure decisions about how a product is described in images.json, from the config.

// The product's `aliases` field, comma-separated without spaces, in this order (lxc-ci's set,
// simplestreams-spec 1.5):
//   os/release/variant; os/release when `variant` is the os's default variant;
//   the same two with each extra release name from release_aliases (debian/12/...);
//   os/variant, and os for the default variant, when release is "current".
// Duplicates are dropped (first kept).
std::string product_aliases(const alias_settings& a, std::string_view os, std::string_view release,
                            std::string_view variant);

// The product's `requirements`: every rule whose `match` is a whole-segment prefix of
// "os/release/variant" applies, in config order (later rules win on a key).
std::map<std::string, std::string> product_requirements(const std::vector<requirement_rule>& rules,
                                                        std::string_view os,
                                                        std::string_view release,
                                                        std::string_view variant);

}  // namespace lxcdn::publish
