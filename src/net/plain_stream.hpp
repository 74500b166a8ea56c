#pragma once
// A plain TCP connection as the session reads and writes it: the socket's own asynchronous
// operations (a speculative recv/send first, no extra operation per call) under one connection
// deadline (deadline_watch). It replaces beast::tcp_stream, which arms and cancels a timer
// around every read and write: on a busy keep-alive connection that was a fifth of the CPU the
// request loop spent outside the kernel (perf, bench/origin line a).
//
// A deadline that passes ends the pending operation with operation_aborted. Models Asio's
// AsyncReadStream and AsyncWriteStream, so asio::async_write works on it. Confined to the
// connection's thread.

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <utility>

#include "net/deadline_watch.hpp"
#include "net/drained_read.hpp"

namespace lxcdn::net {

class plain_stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  explicit plain_stream(tcp::socket socket) : socket_(std::move(socket)) {}
  ~plain_stream() { watch_.detach(); }
  plain_stream(const plain_stream&) = delete;
  plain_stream& operator=(const plain_stream&) = delete;

  tcp::socket& socket() { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }

  // The deadline of the operations that follow (tls_stream has the same call, so session code
  // serves both).
  void expires_after(std::chrono::steady_clock::duration d) { watch_.expires_after(d); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    watch_.guard(socket_);
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  // As async_read_some, but a short read leaves the socket marked drained, so that the next
  // read waits for epoll without a recv first (drained_read.hpp, which says when it fits: the
  // keep-alive wait for a next request).
  template <class Token>
  auto async_read_next(boost::asio::mutable_buffer buffer, Token&& token) {
    watch_.guard(socket_);
    return reader_.async_read(buffer, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    watch_.guard(socket_);
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  // Waits until the socket is ready for `what` (nothing is read or written).
  template <class Token>
  auto async_wait(tcp::socket::wait_type what, Token&& token) {
    watch_.guard(socket_);
    return socket_.async_wait(what, std::forward<Token>(token));
  }

  // Whether the deadline has passed: an operation that ended with operation_aborted then timed
  // out.
  bool expired() const { return watch_.expired(); }

  // Hands the socket over (for waiting or parking); the stream is empty after.
  tcp::socket release_socket() {
    watch_.detach();
    return std::move(socket_);
  }

 private:
  tcp::socket socket_;
  drained_reader reader_{socket_};
  deadline_watch watch_;
};

}  // namespace lxcdn::net
