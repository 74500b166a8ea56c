#pragma once
// Session-side implementations of response_sink for plain TCP and TLS streams. Included only by
// server.cpp (the one translation unit that instantiates the session templates).

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cerrno>
#include <ctime>
#include <string>
#include <vector>

#include "net/response_sink.hpp"
#include "net/server_config.hpp"

namespace lxcdn::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

// "Date" header value, formatted once per second per thread.
std::string_view cached_http_date();

// Serialises a response head ("HTTP/1.1 200 OK\r\n...\r\n") and adds Server and Date.
std::string serialize_head(response_head& head);

// Common part: head buffering, deadlines, in-memory bodies. `Stream` is beast::tcp_stream or
// beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class stream_sink_base : public response_sink {
 public:
  stream_sink_base(Stream& stream, const limits_config& limits)
      : stream_(stream), limits_(limits) {}

  asio::awaitable<error_code> write_head(response_head& head, bool body_follows) override {
    pending_ = serialize_head(head);
    if (body_follows) {
      co_return error_code{};
    }
    co_return co_await flush(asio::const_buffer());
  }

  asio::awaitable<error_code> write_body(asio::const_buffer data) override {
    written_ += data.size();
    co_return co_await flush(data);
  }

  std::uint64_t body_bytes_written() const override { return written_; }

 protected:
  // Writes the pending head (if any) followed by `data`, as one contiguous write when small.
  asio::awaitable<error_code> flush(asio::const_buffer data) {
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(limits_.send_timeout);
    error_code ec;
    if (!pending_.empty() && data.size() <= 16 * 1024) {
      pending_.append(static_cast<const char*>(data.data()), data.size());
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, asio::buffer(pending_), asio::as_tuple(asio::use_awaitable));
      pending_.clear();
      co_return ec;
    }
    if (!pending_.empty()) {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, asio::buffer(pending_), asio::as_tuple(asio::use_awaitable));
      pending_.clear();
      if (ec) {
        co_return ec;
      }
    }
    if (data.size() > 0) {
      lowest.expires_after(limits_.send_timeout);
      std::tie(ec, std::ignore) =
          co_await asio::async_write(stream_, data, asio::as_tuple(asio::use_awaitable));
    }
    co_return ec;
  }

  // Reads file bytes and writes them through the stream (used for TLS, and for plain TCP when
  // sendfile is not possible). The first chunk carries the pending head.
  asio::awaitable<error_code> copy_file(int fd, std::uint64_t offset, std::uint64_t length) {
    constexpr std::size_t chunk = 256 * 1024;
    if (buffer_.size() < chunk + 1024) {
      buffer_.resize(chunk + 1024);
    }
    while (length > 0) {
      std::size_t head_len = pending_.size();
      if (head_len > 1024) {  // an unusually large head: send it on its own
        if (auto ec = co_await flush(asio::const_buffer())) {
          co_return ec;
        }
        head_len = 0;
      }
      std::memcpy(buffer_.data(), pending_.data(), head_len);
      pending_.clear();
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk));
      ssize_t n = ::pread(fd, buffer_.data() + head_len, want, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {  // I/O error, or the file shrank under us: never pad, abort the response
        co_return error_code(n < 0 ? errno : EIO, boost::system::generic_category());
      }
      auto& lowest = beast::get_lowest_layer(stream_);
      lowest.expires_after(limits_.send_timeout);
      auto [ec, sent] = co_await asio::async_write(
          stream_, asio::buffer(buffer_.data(), head_len + static_cast<std::size_t>(n)),
          asio::as_tuple(asio::use_awaitable));
      if (ec) {
        co_return ec;
      }
      offset += static_cast<std::uint64_t>(n);
      length -= static_cast<std::uint64_t>(n);
      written_ += static_cast<std::uint64_t>(n);
    }
    if (!pending_.empty()) {
      co_return co_await flush(asio::const_buffer());
    }
    co_return error_code{};
  }

  Stream& stream_;
  const limits_config& limits_;
  std::string pending_;
  std::vector<char> buffer_;
  std::uint64_t written_ = 0;
};

template <class Stream>
class stream_sink;

// TLS: file bytes are read and encrypted in user space.
template <>
class stream_sink<beast::ssl_stream<beast::tcp_stream>> final
    : public stream_sink_base<beast::ssl_stream<beast::tcp_stream>> {
 public:
  using stream_sink_base::stream_sink_base;
  asio::awaitable<error_code> write_file(int fd, std::uint64_t offset,
                                         std::uint64_t length) override {
    co_return co_await copy_file(fd, offset, length);
  }
};

// Plain TCP: the head goes out with MSG_MORE and the body with sendfile(2), so file bytes never
// enter user space.
template <>
class stream_sink<beast::tcp_stream> final : public stream_sink_base<beast::tcp_stream> {
 public:
  using stream_sink_base::stream_sink_base;

  asio::awaitable<error_code> write_file(int fd, std::uint64_t offset,
                                         std::uint64_t length) override {
    using namespace asio::experimental::awaitable_operators;
    auto& sock = stream_.socket();
    error_code ec;
    sock.native_non_blocking(true, ec);
    if (ec) {
      co_return co_await copy_file(fd, offset, length);
    }
    const int sfd = sock.native_handle();
    // The head: one non-blocking send with MSG_MORE so it shares a packet with the first body
    // bytes; whatever does not fit goes through the ordinary async write.
    if (!pending_.empty()) {
      ssize_t n = ::send(sfd, pending_.data(), pending_.size(), MSG_MORE | MSG_NOSIGNAL);
      if (n > 0) {
        pending_.erase(0, static_cast<std::size_t>(n));
      }
      if (!pending_.empty()) {
        if (auto e = co_await flush(asio::const_buffer())) {
          co_return e;
        }
      }
    }
    asio::steady_timer timer(sock.get_executor());
    auto off = static_cast<off_t>(offset);
    while (length > 0) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, 1u << 30));
      ssize_t n = ::sendfile(sfd, fd, &off, want);
      if (n > 0) {
        length -= static_cast<std::uint64_t>(n);
        written_ += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) {  // the file shrank under us: never pad, abort the response
        co_return error_code(EIO, boost::system::generic_category());
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        co_return error_code(errno, boost::system::generic_category());
      }
      timer.expires_after(limits_.send_timeout);
      auto result = co_await (sock.async_wait(asio::socket_base::wait_write,
                                              asio::as_tuple(asio::use_awaitable)) ||
                              timer.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (result.index() == 1) {
        co_return error_code(asio::error::timed_out);
      }
      if (auto [wec] = std::get<0>(result); wec) {
        co_return wec;
      }
    }
    co_return error_code{};
  }
};

}  // namespace lxcdn::net
