#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
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

// What the prober last saw of one mirror, for the status page and /metrics.
struct mirror_health_report {
  std::string name;
  health_state state = health_state::down;
  double share = 0;
  std::int64_t last_probe = 0;
  bool last_ok = false;
  std::string last_reason;
  std::uint64_t transitions = 0;
};

// The health of every mirror, published by the prober, read by every request. Internally
// synchronized; readers get an immutable snapshot parallel to the mirror list.
class health_board {
 public:
  explicit health_board(std::size_t mirrors);
  std::shared_ptr<const std::vector<selection::mirror_status>> statuses() const;
  std::vector<mirror_health_report> reports() const;
  void publish(std::vector<selection::mirror_status> statuses,
               std::vector<mirror_health_report> reports);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<selection::mirror_status>> statuses_;  // guarded by mutex_
  std::vector<mirror_health_report> reports_;                              // guarded by mutex_
};

// Probes every mirror every `interval`, end to end, from this origin node: the mirror's own
// /.lxcdn/status (when it is an lxcdn mirror: its upstream must be reachable) and the canary file
// fetched through each of its URLs (http and https), whose status, size and sha256 must be right.
// Feeds one health_tracker per mirror, logs every transition with its reason, and publishes to
// the board. Runs on its own strand of `ioc`; stop() ends it.
class prober {
 public:
  prober(boost::asio::io_context& ioc, std::vector<selection::mirror> mirrors,
         probe_settings settings, std::function<canary()> canary_source, health_board& board,
         std::function<std::int64_t()> clock);
  ~prober();
  void start();
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace lxcdn::health
