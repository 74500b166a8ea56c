#pragma once

#include <filesystem>
#include <vector>

#include "core/yaml_reader.hpp"
#include "selection/mirror.hpp"
#include "selection/select_mirror.hpp"

namespace lxcdn::selection {

// Reads the `mirrors:` list of `parent` (the top-level mapping of the origin config) and calls
// finish() on each entry; leaves `parent` itself to its owner. Country codes are upper-cased and
// checked against the built-in table, base URLs parsed and normalised (redirect_url.hpp),
// names must be unique. Throws config_error "FILE:LINE: KEY: reason", e.g.
// "origin.yaml:31: mirrors[2].https: expected an https:// base URL like
// https://mirror.example.org/, got 'http://x'".
std::vector<mirror> parse_mirror_list(yaml_map& parent);

// Reads a `selection:` mapping (pass `top.child("selection")`) and calls finish() on it.
// Distances are km: `1000` or `1000km`.
selection_settings parse_selection_settings(yaml_map& selection);

}  // namespace lxcdn::selection
