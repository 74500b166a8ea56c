#pragma once

#include <filesystem>

#include "demo/demo.hpp"

namespace lxcdn::demo {

// `lxcdn demo`: picks a free loopback port for every port given as 0 (the processes refer to
// each other's ports, so all must be known before any starts), prepares the demo, then runs
// `program origin --config DIR/origin.yaml` and `program mirror --config DIR/mirror-{a,b}.yaml`
// as supervised child processes (origin first, so the mirrors' first index fetch succeeds),
// prints the ports, the watch lines and the client commands once all listen, and runs until
// SIGINT/SIGTERM, which stops all three. Returns the exit code (0 after a requested stop).
// Throws std::runtime_error if preparing fails.
int run_demo(demo_options options, const std::filesystem::path& program);

// A TCP port on `host` that was free a moment ago (bound to port 0, then released).
// Throws std::system_error if `host` cannot be bound.
std::uint16_t free_port(const std::string& host);

}  // namespace lxcdn::demo
