#pragma once
// Session-side implementations of response_sink for plain TCP and TLS streams. Included by
// session.hpp, whose serve() template is instantiated by server.cpp (and the http_head fuzzer).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <cerrno>
#include <ctime>
#include <memory>
#include <string>
#include <type_traits>

#include "net/plain_stream.hpp"
#include "net/response_sink.hpp"
#include "net/server_config.hpp"
#include "net/tls_stream.hpp"

namespace lxcdn::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

// "Date" header value, formatted once per second per thread.
std::string_view cached_http_date();

// Appends a response head ("HTTP/1.1 200 OK\r\n...\r\n") to `out`, with our Server and Date
// fields (any the head carries are replaced).
void append_head(std::string& out, const response_head& head);

// The same for a head given as status and fields (response_sink::write_head_fields).
void append_head(std::string& out, http::status status, unsigned version, bool keep_alive,
                 std::span<const head_field> fields);

// Common part: head buffering, deadlines, in-memory bodies. `Stream` is plain_stream or
// tls_stream.
template <class Stream>
class stream_sink_base : public response_sink {
 public:
  stream_sink_base(Stream& stream, const limits_config& limits)
      : stream_(stream), limits_(limits) {}

  // The head is built in pending_, whose capacity stays with the connection. Without a body it
  // is sent at once when it fits, so the usual case needs no nested coroutine frame (flush's).
  asio::awaitable<error_code> write_head(response_head& head, bool body_follows) override {
    pending_.clear();
    append_head(pending_, head);
    if (body_follows || send_pending_now()) {
      co_return error_code{};
    }
    co_return co_await flush(asio::const_buffer());
  }

  asio::awaitable<error_code> write_head_fields(http::status status, unsigned version,
                                                bool keep_alive,
                                                std::span<const head_field> fields,
                                                bool body_follows) override {
    pending_.clear();
    append_head(pending_, status, version, keep_alive, fields);
    if (body_follows || send_pending_now()) {
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
  // On plain TCP, one non-blocking send(2) of `data`; returns how many bytes it took (0 on TLS,
  // on EAGAIN, and on an error, which the asynchronous write then reports again as a value).
  // Called before write_all, not in it: a response that fits the socket's send buffer (nearly
  // all small ones) then costs no coroutine frame, asynchronous operation, timer or trip through
  // the scheduler.
  std::size_t send_now(asio::const_buffer data) {
    if constexpr (std::is_same_v<Stream, plain_stream>) {
      if (data.size() == 0 || make_non_blocking()) {
        return 0;
      }
      ssize_t n;
      do {
        n = ::send(stream_.socket().native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      return n > 0 ? static_cast<std::size_t>(n) : 0;
    } else {
      return 0;
    }
  }

  // send_now() of pending_, keeping what it did not take; true when nothing is left.
  bool send_pending_now() {
    pending_.erase(0, send_now(asio::buffer(pending_)));
    return pending_.empty();
  }

  // Writes all of `data` under the send deadline, asynchronously (callers try send_now first).
  asio::awaitable<error_code> write_all(asio::const_buffer data) {
    if constexpr (std::is_same_v<Stream, plain_stream>) {
      if (data.size() == 0) {
        co_return error_code{};
      }
      stream_.expires_after(limits_.send_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, data, asio::as_tuple(asio::use_awaitable));
      co_return ec;
    } else {
      stream_.expires_after(limits_.send_timeout);
      co_return co_await stream_.write_all(data);
    }
  }

  // Puts the socket in non-blocking mode for direct send(2)/sendfile(2), with one
  // ioctl per connection rather than per response. Returns the error if that fails.
  error_code make_non_blocking() {
    if (!native_non_blocking_) {
      error_code ec;
      beast::get_lowest_layer(stream_).socket().native_non_blocking(true, ec);
      if (ec) {
        return ec;
      }
      native_non_blocking_ = true;
    }
    return {};
  }

  // Writes the pending head (if any) followed by `data`, as one contiguous write when small.
  asio::awaitable<error_code> flush(asio::const_buffer data) {
    if (!pending_.empty()) {
      if (data.size() <= 16 * 1024) {
        pending_.append(static_cast<const char*>(data.data()), data.size());
        data = asio::const_buffer();
      }
      if (!send_pending_now()) {
        auto ec = co_await write_all(asio::buffer(pending_));
        pending_.clear();
        if (ec) {
          co_return ec;
        }
      }
    }
    data += send_now(data);
    if (data.size() > 0) {
      co_return co_await write_all(data);
    }
    co_return error_code{};
  }

  // Reads file bytes and writes them through the stream (used for TLS, and for plain TCP when
  // sendfile is not possible). The first chunk carries the pending head.
  asio::awaitable<error_code> copy_file(int fd, std::uint64_t offset, std::uint64_t length) {
    constexpr std::size_t chunk = 256 * 1024;
    // Sized to this body (a small index needs a few KiB, not 257 KiB per connection) and left
    // uninitialised: every byte sent is written by memcpy or pread first.
    const std::size_t need =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk)) + 1024;
    if (buffer_size_ < need) {
      buffer_ = std::make_unique_for_overwrite<char[]>(need);
      buffer_size_ = need;
    }
    while (length > 0) {
      std::size_t head_len = pending_.size();
      if (head_len > 1024) {  // an unusually large head: send it on its own
        if (auto ec = co_await flush(asio::const_buffer())) {
          co_return ec;
        }
        head_len = 0;
      }
      std::memcpy(buffer_.get(), pending_.data(), head_len);
      pending_.clear();
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk));
      ssize_t n = ::pread(fd, buffer_.get() + head_len, want, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {  // I/O error, or the file shrank under us: never pad, abort the response
        co_return error_code(n < 0 ? errno : EIO, boost::system::generic_category());
      }
      auto out = asio::buffer(buffer_.get(), head_len + static_cast<std::size_t>(n));
      out += send_now(out);
      if (out.size() > 0) {
        if (auto ec = co_await write_all(out)) {
          co_return ec;
        }
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
  std::unique_ptr<char[]> buffer_;  // copy_file's staging buffer, kept for the connection
  std::size_t buffer_size_ = 0;
  bool native_non_blocking_ = false;  // direct send(2)/sendfile(2) never block
  std::uint64_t written_ = 0;
};

template <class Stream>
class stream_sink;

// TLS: file bytes are read and encrypted in user space.
template <>
class stream_sink<tls_stream> final : public stream_sink_base<tls_stream> {
 public:
  using stream_sink_base::stream_sink_base;
  // OpenSSL writes each record (16 KiB) with its own write(2), and each leaves as its own packet
  // (TCP_NODELAY), so the reader decrypts one record while we encrypt the next. Coalescing them
  // was measured to cost more than it saves (bench/mirror line b and an origin-only A/B on a
  // Linux 6.18 VM, 5 alternating rounds each): TCP_CORK during the body 0.85-0.9x of this, Nagle
  // 0.7x, one send(2) per 256 KiB of records (a buffering write BIO) 0.9x; so does reading the
  // file through mmap instead of pread (0.9x: page faults and TLB misses cost more than the copy).
  asio::awaitable<error_code> write_file(int fd, std::uint64_t offset,
                                         std::uint64_t length) override {
    return copy_file(fd, offset, length);
  }
};

// Plain TCP: the head goes out with MSG_MORE and the body with sendfile(2), so file bytes never
// enter user space (measured: copying even a 10 KiB index costs more kernel time than the splice).
template <>
class stream_sink<plain_stream> final : public stream_sink_base<plain_stream> {
 public:
  using stream_sink_base::stream_sink_base;

  asio::awaitable<error_code> write_file(int fd, std::uint64_t offset,
                                         std::uint64_t length) override {
    auto& sock = stream_.socket();
    if (make_non_blocking()) {
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
      // Full send buffer: wait for room under the send deadline (the connection's one timer,
      // not a timer of its own per wait).
      stream_.expires_after(limits_.send_timeout);
      auto [wec] = co_await stream_.async_wait(asio::socket_base::wait_write,
                                              asio::as_tuple(asio::use_awaitable));
      if (wec) {
        co_return stream_.expired() ? error_code(asio::error::timed_out) : wec;
      }
    }
    co_return error_code{};
  }
};

}  // namespace lxcdn::net
