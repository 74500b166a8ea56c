#pragma once
// The request loop of one connection: read a head, check it, hand it to the request_handler,
// repeat while keep-alive holds. A template over the stream so that the server instantiates it
// for plain TCP and TLS, and the http_head fuzzer (fuzz/http_head_fuzzer.cpp) for plain TCP over
// a socket pair: the same code path, with no extra allocation or virtual call per request.

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <tuple>

#include "http/head_scan.hpp"
#include "net/plain_stream.hpp"
#include "net/request.hpp"
#include "net/request_handler.hpp"
#include "net/response_sink.hpp"
#include "net/server_config.hpp"
#include "net/stream_sink.hpp"
#include "net/tls_stream.hpp"

namespace lxcdn::net {

// What a session needs from its server. The referenced objects outlive every session.
struct session_env {
  const limits_config& limits;
  request_handler& handler;
  const std::atomic<bool>& stopping;  // set once a graceful stop begins: no new request is read
  // Set while the connection's thread holds many connections: then a keep-alive connection with
  // no next request already waiting ends its loop at once (session_end::idle) to be parked,
  // rather than waiting in it. Read on the connection's own thread.
  const bool& park_when_idle;
};

// How serve() ended.
enum class session_end {
  clean,   // a response asked for the close (or a stop began): close cleanly
  broken,  // the peer left, an error, a timeout, or the read was cancelled
  idle,    // park_when_idle and no next request yet: nothing is buffered, the connection is fine
};

// Protocol errors that deserve a 400 answer (as opposed to a vanished peer).
bool is_protocol_error(const error_code& ec);

// "192.0.2.1:443" or "[2001:db8::1]:443", for log lines.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

// One read of whatever the connection has, for both kinds of stream, as an awaitable of
// (error, bytes): no coroutine frame of its own on either path.
template <class Stream>
auto read_some(Stream& stream, boost::asio::mutable_buffer b) {
  return stream.async_read_some(b, boost::asio::as_tuple(boost::asio::use_awaitable));
}
inline auto read_some(tls_stream& stream, boost::asio::mutable_buffer b) {
  return stream.read_some(b);
}

// The keep-alive wait for the next request: as read_some, and on plain TCP a short read marks
// the socket drained, so the next wait costs no recv that finds nothing (drained_read.hpp).
inline auto read_next(plain_stream& stream, boost::asio::mutable_buffer b) {
  return stream.async_read_next(b, boost::asio::as_tuple(boost::asio::use_awaitable));
}
inline auto read_next(tls_stream& stream, boost::asio::mutable_buffer b) {
  return stream.read_some(b);
}

// One read of what the connection has already received, without waiting: would_block when
// nothing is there yet.
inline std::tuple<error_code, std::size_t> read_now(plain_stream& stream,
                                                    boost::asio::mutable_buffer b) {
  ssize_t n;
  do {
    n = ::recv(stream.socket().native_handle(), b.data(), b.size(), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    return {error_code{}, static_cast<std::size_t>(n)};
  }
  if (n == 0) {
    return {boost::asio::error::eof, 0};
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    return {boost::asio::error::would_block, 0};
  }
  return {error_code(errno, boost::system::system_category()), 0};
}
inline std::tuple<error_code, std::size_t> read_now(tls_stream& stream,
                                                    boost::asio::mutable_buffer b) {
  return stream.read_now(b);
}

// Whether a connection whose read found nothing can wait for its next request as a parked
// socket: a TLS one only while OpenSSL holds no input of its own.
inline bool quiet_without_socket(plain_stream&) { return true; }
inline bool quiet_without_socket(tls_stream& stream) { return !stream.has_pending(); }

// Feeds the bytes in `buffer` to `parser`, consumes what it took and adds those bytes to
// `scanned`. Returns the parser's error; need_more is not one.
inline error_code put_head(http::request_parser<http::empty_body>& parser,
                           beast::flat_buffer& buffer, ::lxcdn::http::head_scan& scanned) {
  error_code ec;
  auto data = buffer.data();
  auto used = parser.put(data, ec);
  ::lxcdn::http::scan_head({static_cast<const char*>(data.data()), used}, scanned);
  buffer.consume(used);
  if (ec == http::error::need_more) {
    ec = {};
  }
  return ec;
}

// Serves requests on one connection until it should close; `buffer` may already hold the first
// bytes. `busy` is true from reading a request to finishing its response (shutdown closes only
// idle connections). Malformed heads get 400, oversized ones 431,
// an HTTP/1.1 request without exactly one Host 400, a request with a body 400; each then closes.
template <class Stream>
boost::asio::awaitable<session_end> serve(Stream& stream, boost::beast::flat_buffer& buffer,
                                   const boost::asio::ip::tcp::endpoint& peer, bool is_tls,
                                   const session_env& env, bool& busy) {
  const limits_config& limits = env.limits;
  auto& lowest = beast::get_lowest_layer(stream);
  stream_sink<Stream> sink_storage(stream, limits);
  bool first = true;
  for (;;) {
    busy = false;
    if (env.stopping) {
      co_return session_end::clean;
    }
    if (!first && buffer.size() == 0) {
      // Keep-alive: the next request's first bytes may be here already (pipelining, or a quick
      // client). When the thread is crowded, a connection without them leaves its loop to be
      // parked; otherwise it waits in the loop under the idle deadline. The head then gets its
      // own (shorter) deadline.
      std::size_t got = 0;
      if (env.park_when_idle) {
        auto [ec, n] = read_now(stream, buffer.prepare(4096));
        if (ec == boost::asio::error::would_block && quiet_without_socket(stream)) {
          co_return session_end::idle;
        }
        if (ec && ec != boost::asio::error::would_block) {
          co_return session_end::broken;
        }
        got = n;
      }
      if (got == 0) {
        lowest.expires_after(limits.idle_timeout);
        auto [ec, n] = co_await read_next(stream, buffer.prepare(4096));
        if (ec) {
          co_return session_end::broken;
        }
        got = n;
      }
      buffer.commit(got);
    }
    first = false;
    busy = true;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.eager(false);
    // The head is usually whole in the buffer already (one segment): parse it in place, and
    // read (under the header deadline) only the rest of a partial one. Every byte the parser
    // takes is also scanned, for what its result hides: it unfolds obs-fold and counts nothing.
    ::lxcdn::http::head_scan scanned;
    error_code ec = put_head(parser, buffer, scanned);
    if (!ec && !parser.is_header_done()) {
      lowest.expires_after(limits.header_timeout);
      while (!ec && !parser.is_header_done()) {
        auto [rec, n] = co_await read_some(stream, buffer.prepare(4096));
        if (rec) {
          // As Beast's read_header: a close before any byte is the end of the stream, after some
          // a partial message (neither is answered); any other error ends the connection too.
          bool eof = rec == boost::asio::error::eof;
          ec = !eof ? rec
                    : (parser.got_some() ? http::error::partial_message : http::error::end_of_stream);
          break;
        }
        buffer.commit(n);
        ec = put_head(parser, buffer, scanned);
      }
    }
    if (!ec && scanned.obs_fold) {
      // RFC 9112 §5.2 lets a server either unfold or refuse. Refused: a field hidden in a
      // continuation line (" Content-Length: 40") is how requests are smuggled past a proxy
      // that reads it differently, and no client of ours folds.
      ec = http::error::bad_field;
    }
    if (!ec && ::lxcdn::http::field_lines(scanned) > limits.max_header_fields) {
      ec = http::error::header_limit;
    }
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await write_simple_response(sink_storage, 11, false, false,
                                       http::status::request_header_fields_too_large,
                                       "request header too large\n");
      } else if (is_protocol_error(ec)) {
        spdlog::debug("{}: bad request: {}", endpoint_text(peer), ec.message());
        co_await write_simple_response(sink_storage, 11, false, false, http::status::bad_request,
                                       "bad request\n");
      }
      co_return session_end::broken;
    }
    request req{parser.release(), peer, is_tls};
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host field gets 400.
    if (req.message.version() >= 11 && req.message.count(http::field::host) != 1) {
      co_await write_simple_response(sink_storage, req.message.version(), false,
                                     req.message.method() == http::verb::head,
                                     http::status::bad_request, "missing or repeated Host\n");
      co_return session_end::broken;
    }
    // GET/HEAD carry no body; refusing one avoids desynchronising the connection. Any
    // Transfer-Encoding counts as one, whatever Beast made of it: RFC 9112 §6.3 (a request whose
    // final coding is not chunked has no reliable length: 400 and close), and "gzip" or
    // "identity" would otherwise leave what follows the head to be read as the next request.
    const bool transfer_encoding =
        req.message.find(http::field::transfer_encoding) != req.message.end();
    if (transfer_encoding || req.message.has_content_length()) {
      bool has_body =
          transfer_encoding || req.message[http::field::content_length] != "0";
      if (has_body) {
        co_await write_simple_response(sink_storage, req.message.version(), false,
                                       req.message.method() == http::verb::head,
                                       http::status::bad_request,
                                       "request bodies are not accepted\n");
        co_return session_end::broken;
      }
    }
    bool keep_alive = req.message.keep_alive() && !env.stopping;
    bool ok = co_await env.handler.handle(req, sink_storage, keep_alive);
    if (!ok) {
      co_return session_end::broken;
    }
    if (!keep_alive) {
      co_return session_end::clean;
    }
  }
}

}  // namespace lxcdn::net
