#include "checkmirror/probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <vector>

#include "core/config_error.hpp"
#include "core/sha256.hpp"

#ifndef LXCDN_VERSION
#define LXCDN_VERSION "0.0.0"
#endif

namespace lxcdn::checkmirror {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

void trust(ssl::context& ctx, const std::filesystem::path& ca_file) {
  ctx.set_default_verify_paths();
  if (!ca_file.empty()) {
    boost::system::error_code ec;
    ctx.load_verify_file(ca_file.string(), ec);
    if (ec) {
      throw config_error("--ca-file: cannot load " + ca_file.string() + ": " + ec.message());
    }
  }
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

tls_facts read_tls_facts(SSL* ssl) {
  tls_facts t;
  t.version = SSL_get_version(ssl);
  long result = SSL_get_verify_result(ssl);
  X509* leaf = SSL_get1_peer_certificate(ssl);
  if (!leaf) {
    t.verify_error = "no certificate";
    return t;
  }
  t.verified = result == X509_V_OK;
  if (!t.verified) {
    t.verify_error = X509_verify_cert_error_string(result);
  }
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(leaf)) == 1) {
    t.days_left = days;
  }
  X509_free(leaf);
  return t;
}

// Sends the request and reads the response on a connected stream (plain or TLS).
template <typename Stream>
asio::awaitable<void> exchange(Stream& stream, const probe_request& req, probe_timeouts timeouts,
                               clock_type::time_point started, probe_result& out) {
  auto& lowest = beast::get_lowest_layer(stream);
  http::request<http::empty_body> request{http::verb::get, req.target, 11};
  request.set(http::field::host, req.where.authority());
  request.set(http::field::user_agent, "lxcdn-check-mirror/" LXCDN_VERSION);
  request.set(http::field::connection, "close");
  lowest.expires_after(timeouts.headers);
  if (auto [ec, n] = co_await http::async_write(stream, request, as_tuple); ec) {
    out.error = "sending the request: " + ec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple); ec) {
    out.error = "reading the response head: " + ec.message();
    co_return;
  }
  out.headers_seconds = seconds_since(started);
  const auto& head = parser.get();
  out.status = head.result_int();
  out.location = std::string(head[http::field::location]);
  out.x_cache = std::string(head["X-Cache"]);
  if (auto cl = parser.content_length()) {
    out.content_length = *cl;
  }
  sha256 hash;
  std::vector<char> chunk(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    lowest.expires_after(timeouts.body_idle);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, as_tuple);
    const std::size_t got = chunk.size() - parser.get().body().size;
    hash.update(std::string_view(chunk.data(), got));
    out.body_bytes += got;
    if (req.keep_body) {
      out.body.append(chunk.data(), got);
    }
    if (ec && ec != http::error::need_buffer) {
      out.body_error = ec == beast::error::timeout ? "body stalled" : ec.message();
      break;
    }
    if (out.body_bytes > req.body_limit) {
      out.body_error = "body longer than " + std::to_string(req.body_limit) + " bytes";
      break;
    }
  }
  out.body_complete = parser.is_done() && out.body_error.empty();
  out.body_sha256 = hash.hex_digest();
}

}  // namespace

tls_contexts::tls_contexts(const std::filesystem::path& ca_file)
    : strict(ssl::context::tls_client), observing(ssl::context::tls_client) {
  SSL_CTX_set_min_proto_version(strict.native_handle(), TLS1_3_VERSION);
  strict.set_verify_mode(ssl::verify_peer);
  trust(strict, ca_file);
  SSL_CTX_set_min_proto_version(observing.native_handle(), TLS1_2_VERSION);
  // verify_none: the chain and name are still checked and the result kept for
  // SSL_get_verify_result; the handshake just goes on regardless.
  observing.set_verify_mode(ssl::verify_none);
  trust(observing, ca_file);
}

asio::awaitable<probe_result> probe(asio::any_io_executor ex, tls_contexts& tls,
                                    probe_request req, bool strict,
                                    probe_timeouts timeouts) {
  probe_result out;
  out.url = req.where.scheme + "://" + req.where.authority() + req.target;
  const auto started = clock_type::now();

  tcp::resolver resolver(ex);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(req.where.host, std::to_string(req.where.port), as_tuple);
  if (rec) {
    out.error = "resolving " + req.where.host + ": " + rec.message();
    co_return out;
  }
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_after(timeouts.connect);
  if (auto [ec, ep] = co_await tcp_stream.async_connect(endpoints, as_tuple); ec) {
    out.error = "connecting: " + (ec == beast::error::timeout ? std::string("timed out")
                                                              : ec.message());
    co_return out;
  }
  if (req.where.scheme == "http") {
    co_await exchange(tcp_stream, req, timeouts, started, out);
    co_return out;
  }

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream),
                                              strict ? tls.strict : tls.observing);
  SSL* ssl = stream.native_handle();
  const std::string& host = req.where.host;
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, as_tuple); ec) {
    out.error = "TLS handshake: " + (ec == beast::error::timeout ? std::string("timed out")
                                                                 : ec.message());
    if (long v = SSL_get_verify_result(ssl); strict && v != X509_V_OK) {
      out.error += std::string(" (") + X509_verify_cert_error_string(v) + ")";
    }
    co_return out;
  }
  out.tls = read_tls_facts(ssl);
  co_await exchange(stream, req, timeouts, started, out);
  co_return out;
}

}  // namespace lxcdn::checkmirror
