#pragma once

#include "origin/origin_config.hpp"

namespace lxcdn::origin {

// Runs the origin server until SIGTERM/SIGINT (graceful: stop accepting, let responses finish
// within limits.shutdown_grace). SIGHUP re-reads the TLS certificate and key. Prints one line per
// listener to stdout once it accepts: "lxcdn origin listening on https://127.0.0.1:8443".
// Returns the process exit code; throws config_error if a listener or certificate cannot be set up.
int run_origin(const origin_config& config);

}  // namespace lxcdn::origin
