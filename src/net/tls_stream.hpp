#pragma once
// The server side of one TLS connection, with OpenSSL reading and writing the socket itself
// (SSL_set_fd: a socket BIO on the non-blocking socket) and the coroutine waiting for readiness
// when OpenSSL asks for it.
//
// Why not Asio's ssl::stream: it runs OpenSSL against a memory BIO pair and moves every record
// through it with an asynchronous operation. That costs a copy per record and, per connection,
// two 17 KiB record buffers of its own plus the pair's two (about 34 KiB resident on an idle
// keep-alive connection, measured by bench/connections), and its state cannot outlive the request
// loop. Here the only per-connection TLS state is the SSL object, whose record buffers OpenSSL
// frees while nothing is buffered (SSL_MODE_RELEASE_BUFFERS), and which can be parked with the
// socket (release()).
//
// One operation at a time: the session reads a request, then writes its response; nothing reads
// and writes concurrently. Confined to the connection's thread.

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <tuple>
#include <utility>

#include "net/deadline_watch.hpp"

namespace lxcdn::net {

struct ssl_free_deleter {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using ssl_ptr = std::unique_ptr<SSL, ssl_free_deleter>;

class tls_stream {
 public:
  using clock = std::chrono::steady_clock;
  using error_code = boost::system::error_code;
  using tcp = boost::asio::ip::tcp;

  // Takes a connection's socket and its SSL object: a fresh one from SSL_new (server side; call
  // handshake() next) or one released by a parked connection (handshake done). The socket is
  // made non-blocking; the SSL reads and writes its descriptor. No deadline until expires_after.
  tls_stream(tcp::socket socket, ssl_ptr ssl);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  tcp::socket& socket() { return socket_; }

  // The deadline of the operations that follow: one that must wait for the socket past it ends
  // with timed_out. (plain_stream has the same call, so session code serves both.)
  void expires_after(clock::duration d) { watch_.expires_after(d); }

  // Server handshake. An error ends the connection (the caller logs it at debug level).
  boost::asio::awaitable<error_code> handshake();

  // Reads up to b.size() plaintext bytes (at least one on success). The peer's close_notify, or
  // a close without one (common with HTTP clients), is asio::error::eof.
  boost::asio::awaitable<std::tuple<error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer b);

  // As read_some, without waiting: would_block when OpenSSL needs more from the socket first.
  std::tuple<error_code, std::size_t> read_now(boost::asio::mutable_buffer b);

  // Writes all of `data`, or returns the error (timed_out past the deadline).
  boost::asio::awaitable<error_code> write_all(boost::asio::const_buffer data);

  // Sends our close_notify without waiting for the peer's (as nginx does). Best effort.
  boost::asio::awaitable<void> shutdown();

  // True when OpenSSL holds bytes already read from the socket (a whole or partial record, or
  // decrypted bytes not yet returned): then the socket may stay quiet although input is waiting,
  // so such a connection must not be parked on a readiness wait.
  bool has_pending() const { return SSL_has_pending(ssl_.get()) == 1; }

  // Hands the connection's socket and SSL object back (for parking); the stream is empty after.
  std::pair<tcp::socket, ssl_ptr> release();

 private:
  // Waits until the socket is ready for `what`, at most until the deadline.
  boost::asio::awaitable<error_code> wait(tcp::socket::wait_type what);
  // After an OpenSSL call returned `ret`: 0 when the call should be retried after waiting for
  // `want` (set), else the error to report.
  error_code classify(int ret, tcp::socket::wait_type& want);

  tcp::socket socket_;
  ssl_ptr ssl_;
  tcp::socket::wait_type pending_want_ = tcp::socket::wait_read;  // what read_now's would_block awaits
  deadline_watch watch_;  // the deadline of every wait (one lazily re-armed timer)
};

}  // namespace lxcdn::net
