#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "net/connection_counts.hpp"
#include "net/request_handler.hpp"
#include "net/server_config.hpp"
#include "net/tls_context.hpp"

namespace lxcdn::net {

// The bound address of one listener, known after start() (port 0 resolves to the real port).
struct bound_listener {
  std::string url;  // "http://127.0.0.1:8080" or "https://[::1]:8443"
  bool tls = false;
};

// An HTTP/1.1 server: listeners (plain and TLS, IPv4 and IPv6), one coroutine per connection,
// keep-alive, deadlines and limits from server_config, graceful shutdown.
// Thread model: one io_context per I/O thread (`threads`); each new connection is handed to the
// next one in turn and stays there, so a connection's code never runs on two threads. run()
// returns when the server has stopped and every connection has ended. stop() and reload_tls() may be called from any thread
// (signal handlers included, via asio::signal_set). Signals are handled by the server itself:
// SIGTERM/SIGINT stop gracefully, SIGHUP reloads the certificate.
class server {
 public:
  server(server_config config, request_handler& handler);
  // For roles whose handler needs the server's io_context: set_handler() before run().
  explicit server(server_config config);
  void set_handler(request_handler& handler);

  // The first I/O thread's io_context; background tasks of a role (index refresh, sweeps,
  // probes) run on it. Connections may run on any of the I/O threads.
  boost::asio::io_context& context();

  // Called (on the io_context) when a graceful stop begins, so a role can cancel its timers;
  // run() returns only once no work is left.
  void on_stop(std::function<void()> callback);

  // Called (on the io_context) once per stop, when its drain is over: every connection has ended,
  // or shutdown_grace ran out and the rest were closed. A role ends its own background work here
  // (the mirror aborts fills still running), so run() can return.
  void on_drained(std::function<void()> callback);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Claims SIGTERM/SIGINT/SIGHUP, ignores SIGPIPE (a closed peer is an EPIPE value, never a
  // process death), binds every listener (throws config_error naming the address
  // on failure) and returns their URLs. Does not accept until run().
  std::vector<bound_listener> bind();

  // Accepts and serves until stopped (by a signal or stop()).
  void run();

  // Graceful stop: close listeners, close idle keep-alive connections, let responses in flight
  // finish until shutdown_grace, then close what is left.
  void stop();

  // Any thread.
  connection_counts counts() const;

  // The I/O threads it runs (`threads`, or for 0 one per CPU the process may run on).
  std::size_t io_threads() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace lxcdn::net
