#pragma once
// The deadline of a connection's socket operations, enforced by one timer that is re-armed
// lazily (as nginx's lazy timers): moving the deadline later costs nothing but a store, and the
// timer, when it fires early, re-arms itself for the deadline then in force. On a busy keep-alive
// connection, whose deadline moves with every request, the timer so fires about once per
// timeout period instead of being set and cancelled around every read and write.
//
// When the deadline passes, the watched socket's pending operations are cancelled (they end with
// operation_aborted); an operation started after it is cancelled as soon as the timer runs.
// Confined to the connection's thread.

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>

namespace lxcdn::net {

class deadline_watch {
 public:
  using clock = std::chrono::steady_clock;
  using tcp = boost::asio::ip::tcp;

  deadline_watch() = default;
  ~deadline_watch() { detach(); }
  deadline_watch(const deadline_watch&) = delete;
  deadline_watch& operator=(const deadline_watch&) = delete;

  // The deadline of the operations that follow (none until the first call).
  void expires_after(clock::duration d) { deadline_ = clock::now() + d; }
  bool expired() const { return deadline_ != clock::time_point::max() && clock::now() >= deadline_; }

  // Call before each operation on `socket` (always the same socket): makes sure the timer will
  // cancel it once the deadline passes.
  void guard(tcp::socket& socket);

  // Stops watching (the socket is moving elsewhere or closing); a timer still pending does
  // nothing when it runs.
  void detach();

 private:
  struct state;  // shared with the timer's handler, which may run after this object is gone
  static void arm(const std::shared_ptr<state>& s, clock::time_point at);
  clock::time_point deadline_ = clock::time_point::max();
  std::shared_ptr<state> state_;
};

}  // namespace lxcdn::net
