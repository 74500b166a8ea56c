#include "net/tls_stream.hpp"

#include <openssl/err.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>

namespace lxcdn::net {

namespace asio = boost::asio;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

tls_stream::tls_stream(tcp::socket socket, ssl_ptr ssl)
    : socket_(std::move(socket)), ssl_(std::move(ssl)) {
  error_code ec;
  socket_.native_non_blocking(true, ec);  // on failure the first OpenSSL call fails and says so
  if (SSL_get_rbio(ssl_.get()) == nullptr) {  // a fresh SSL (a parked one keeps its BIO)
    SSL_set_fd(ssl_.get(), socket_.native_handle());  // a socket BIO without BIO_CLOSE
  }
}

tls_stream::~tls_stream() { watch_.detach(); }

std::pair<tls_stream::tcp::socket, ssl_ptr> tls_stream::release() {
  watch_.detach();
  return {std::move(socket_), std::move(ssl_)};
}

asio::awaitable<tls_stream::error_code> tls_stream::wait(tcp::socket::wait_type what) {
  if (watch_.expired()) {
    co_return asio::error::timed_out;
  }
  watch_.guard(socket_);
  auto [ec] = co_await socket_.async_wait(what, as_tuple);
  if (ec && watch_.expired()) {
    co_return asio::error::timed_out;
  }
  co_return ec;
}

tls_stream::error_code tls_stream::classify(int ret, tcp::socket::wait_type& want) {
  const int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      want = tcp::socket::wait_read;
      return {};
    case SSL_ERROR_WANT_WRITE:
      want = tcp::socket::wait_write;
      return {};
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      if (errno != 0) {
        return {errno, boost::system::system_category()};
      }
      return asio::error::eof;
    default: {
      const unsigned long code = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return asio::error::eof;  // a close without close_notify: how many HTTP clients end
      }
      if (code == 0) {
        return asio::error::connection_reset;
      }
      return {static_cast<int>(code), asio::error::get_ssl_category()};
    }
  }
}

asio::awaitable<tls_stream::error_code> tls_stream::handshake() {
  SSL_set_accept_state(ssl_.get());
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_.get());
    if (ret == 1) {
      co_return error_code{};
    }
    tcp::socket::wait_type want{};
    if (auto ec = classify(ret, want)) {
      co_return ec;
    }
    if (auto ec = co_await wait(want)) {
      co_return ec;
    }
  }
}

std::tuple<tls_stream::error_code, std::size_t> tls_stream::read_now(asio::mutable_buffer b) {
  if (b.size() == 0) {
    return {error_code{}, 0};
  }
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int ret = SSL_read_ex(ssl_.get(), b.data(), b.size(), &n);
  if (ret == 1) {
    return {error_code{}, n};
  }
  tcp::socket::wait_type want{};
  if (auto ec = classify(ret, want)) {
    return {ec, 0};
  }
  pending_want_ = want;
  return {asio::error::would_block, 0};
}

asio::awaitable<std::tuple<tls_stream::error_code, std::size_t>> tls_stream::read_some(
    asio::mutable_buffer b) {
  for (;;) {
    auto [ec, n] = read_now(b);
    if (ec != asio::error::would_block) {
      co_return std::tuple{ec, n};
    }
    if (auto wec = co_await wait(pending_want_)) {
      co_return std::tuple{wec, std::size_t{0}};
    }
  }
}

asio::awaitable<tls_stream::error_code> tls_stream::write_all(asio::const_buffer data) {
  while (data.size() > 0) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE a call writes everything or asks to be called again
    // with the same bytes once the socket drains (OpenSSL keeps the half-sent record).
    const int ret = SSL_write_ex(ssl_.get(), data.data(), data.size(), &n);
    if (ret == 1) {
      data += n;
      continue;
    }
    tcp::socket::wait_type want{};
    if (auto ec = classify(ret, want)) {
      co_return ec;
    }
    if (auto ec = co_await wait(want)) {
      co_return ec;
    }
  }
  co_return error_code{};
}

asio::awaitable<void> tls_stream::shutdown() {
  // Mark the peer's close_notify as received so SSL_shutdown completes once ours is out.
  SSL_set_shutdown(ssl_.get(), SSL_RECEIVED_SHUTDOWN);
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_shutdown(ssl_.get());
    if (ret >= 0) {
      co_return;
    }
    tcp::socket::wait_type want{};
    if (classify(ret, want) || co_await wait(want)) {
      co_return;
    }
  }
}

}  // namespace lxcdn::net
