#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "health/health_tracker.hpp"
#include "selection/mirror.hpp"

namespace lxcdn::health {

// `health:` in the origin config.
struct probe_settings {
  std::chrono::milliseconds interval{5000};  // `health.interval`: between probe rounds. 5s
  std::chrono::milliseconds timeout{5000};   // `health.timeout`: connect, head and body. 5s
  std::filesystem::path ca_file;  // `health.ca_file`: extra CA for mirrors' certificates
  health_policy policy;           // `health.window`, `fail_after`, `recover_after`, `slow_start`
};

// A small file every mirror must serve correctly: fetched *through* the mirror and checked.
struct canary {
  std::string path;    // request path, e.g. "/images/.../incus.tar.xz"; empty = none known yet
  std::string sha256;
  std::uint64_t size = 0;
};

// What the prober last saw of one mirror, for routing, the status page and /metrics.
struct mirror_health_report {
  std::string name;
  health_state state = health_state::down;
  double share = 0;               // slow-start share at the last probe, in [0,1]
  std::int64_t last_probe = 0;    // unix seconds; 0 = not probed yet
  bool last_ok = false;
  std::string last_reason = "not probed yet";
  std::uint64_t probes_ok = 0;       // since this origin started probing it
  std::uint64_t probes_failed = 0;
  std::uint64_t transitions_up = 0;  // health state changes
  std::uint64_t transitions_down = 0;
};

// Receives every mirror's report after each probe round (on the prober's strand).
using health_sink = std::function<void(std::vector<mirror_health_report>)>;

// Probes every mirror every `interval`, end to end, from this origin node: the mirror's own
// /.lxcdn/status (when it is an lxcdn mirror: its upstream must be reachable) and the canary file
// fetched through each of its URLs (http and https), whose status, size and sha256 must be right.
// Feeds one health_tracker per mirror, logs every transition with its reason, and publishes to
// `publish` after every round. Runs on its own strand of `ioc`; stop() ends it. Any thread may
// call start(), update() and stop().
class prober {
 public:
  prober(boost::asio::io_context& ioc, std::vector<selection::mirror> mirrors,
         probe_settings settings, std::function<canary()> canary_source, health_sink publish,
         std::function<std::int64_t()> clock);
  ~prober();
  void start();
  // A new mirror list (config reload): applied before the next round, which starts at once. A
  // mirror whose name and URLs are unchanged keeps its health history; a new or changed one
  // starts down ("not probed yet") like at start-up.
  void update(std::vector<selection::mirror> mirrors);
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace lxcdn::health
