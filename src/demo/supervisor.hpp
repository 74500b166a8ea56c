#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcdn::demo {

// One child process the demo runs (an `lxcdn origin` or `lxcdn mirror`).
struct child_spec {
  std::string name;               // for messages: "origin", "mirror A"
  std::vector<std::string> argv;  // argv[0] is the program to execute
  std::size_t listeners = 0;      // "... listening on URL" lines that mean it is ready
};

struct supervise_limits {
  std::chrono::milliseconds ready_timeout{30'000};  // per child, from start to its last listener
  std::chrono::milliseconds stop_timeout{40'000};   // after SIGTERM, before SIGKILL
};

// The URL of a "lxcdn origin listening on URL" line, or nullopt for any other line. Pure.
std::optional<std::string> listening_url(std::string_view line);

// Runs `children` in order: each is started (its stdout read by us, its stderr inherited; it gets
// SIGTERM if this process dies) and must print its `listeners` lines before the next starts.
// Then `on_ready` is called with every child's URLs, in order. Then it waits:
// SIGINT or SIGTERM sends SIGTERM to every child and waits for them (SIGKILL after
// stop_timeout). A child that exits by itself, or does not get ready in time, stops the others.
// Returns 0 after a requested stop, 1 after a failure (reported on stderr). Must be called with
// no other threads running (it blocks SIGINT, SIGTERM and SIGCHLD to read them from a signalfd).
int supervise(const std::vector<child_spec>& children,
              const std::function<void(const std::vector<std::vector<std::string>>&)>& on_ready,
              supervise_limits limits = {});

}  // namespace lxcdn::demo
