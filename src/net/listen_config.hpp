#pragma once

#include <filesystem>

#include "core/yaml_reader.hpp"
#include "net/server_config.hpp"

namespace lxcdn::net {

// Reads the keys every server role shares from its top-level YAML mapping: `listen` (required,
// at least one), `tls` (required when a listener has `tls: true`), `threads` and `limits`.
// Relative certificate paths are taken from the config file's directory. Throws config_error
// naming file, line and key.
void parse_listen_config(yaml_map& top, server_config& out);

}  // namespace lxcdn::net
