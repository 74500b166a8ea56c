#include "mirror/upstream_client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
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

#include "core/config_error.hpp"

namespace lxcdn::mirror {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// The request-target for a decoded, normalised path: every byte outside RFC 3986's pchar set
// (unreserved, sub-delims, ':' and '@') and '/' is percent-encoded, so a '?', '#', '%' or space
// that a client sent encoded inside a segment reaches the upstream as part of the same path,
// never as the start of a query (which would let `%3F...` variants refetch and store a real
// file under endless cache keys). Pure.
std::string encode_path(std::string_view path) {
  constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || allowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// The Host field (RFC 9110 §7.2): an IPv6 literal in brackets, the port unless it is 443.
std::string host_field(const upstream_config& c) {
  std::string host = c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host;
  return c.port == "443" ? host : host + ":" + c.port;
}

}  // namespace

class upstream_connection {
 public:
  upstream_connection(asio::any_io_executor ex, ssl::context& ctx, std::set<upstream_connection*>& live)
      : stream(ex, ctx), live_(live) {
    live_.insert(this);
    // Beast reads max(512, free capacity) bytes per read_some and grows the buffer only when a
    // read needs more than that; left at its small starting size, every body read would be
    // 512 bytes (measured: 150,000 reads and pwrites for 64 MiB, a fill at 1/10 of the
    // origin's TLS speed). One TLS record is at most 16 KiB of plaintext.
    buffer.reserve(64 * 1024);
  }
  ~upstream_connection() { live_.erase(this); }
  upstream_connection(const upstream_connection&) = delete;
  upstream_connection& operator=(const upstream_connection&) = delete;

  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> parser;
  bool reused = false;

 private:
  std::set<upstream_connection*>& live_;
};

upstream_response::upstream_response(std::unique_ptr<upstream_connection> conn,
                                     upstream_client& owner)
    : conn_(std::move(conn)), owner_(owner) {}

upstream_response::~upstream_response() {
  if (conn_ && done_ && conn_->parser->is_done() && conn_->parser->get().keep_alive()) {
    conn_->parser.reset();
    owner_.release(std::move(conn_));
  }
}

unsigned upstream_response::status() const { return conn_->parser->get().result_int(); }

std::string upstream_response::header(std::string_view name) const {
  return std::string(conn_->parser->get()[name]);
}

std::optional<std::uint64_t> upstream_response::content_length() const {
  auto cl = conn_->parser->content_length();
  if (!cl) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(*cl);
}

asio::awaitable<std::pair<error_code, std::size_t>> upstream_response::read_some(
    std::span<char> buf) {
  auto& p = *conn_->parser;
  if (p.is_done()) {
    done_ = true;
    co_return std::pair{error_code{}, std::size_t{0}};
  }
  p.get().body().data = buf.data();
  p.get().body().size = buf.size();
  beast::get_lowest_layer(conn_->stream).expires_after(owner_.config().read_timeout);
  auto [ec, n] = co_await http::async_read_some(conn_->stream, conn_->buffer, p, as_tuple);
  if (ec == http::error::need_buffer) {
    ec = {};
  }
  std::size_t got = buf.size() - p.get().body().size;
  if (!ec && got == 0 && p.is_done()) {
    done_ = true;
  }
  co_return std::pair{ec, got};
}

upstream_client::upstream_client(asio::io_context& ioc, upstream_config config)
    : config_(std::move(config)), strand_(asio::make_strand(ioc)),
      tls_(ssl::context::tls_client) {
  SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_3_VERSION);
  tls_.set_verify_mode(ssl::verify_peer);
  if (config_.ca_file.empty()) {
    tls_.set_default_verify_paths();
  } else {
    error_code ec;
    tls_.load_verify_file(config_.ca_file.string(), ec);
    if (ec) {
      throw config_error(fmt::format("upstream.ca_file: cannot load {}: {}",
                                     config_.ca_file.string(), ec.message()));
    }
  }
}

upstream_client::~upstream_client() = default;

void upstream_client::abort_all() {
  aborted_ = true;
  idle_.clear();
  for (auto* conn : live_) {
    error_code ec;
    beast::get_lowest_layer(conn->stream).socket().close(ec);
  }
}

void upstream_client::release(std::unique_ptr<upstream_connection> conn) {
  if (!aborted_ && idle_.size() < config_.max_idle_connections) {
    conn->reused = true;
    idle_.push_back(std::move(conn));
  }
}

asio::awaitable<std::pair<error_code, std::unique_ptr<upstream_connection>>>
upstream_client::connect() {
  auto conn = std::make_unique<upstream_connection>(strand_, tls_, live_);
  auto& lowest = beast::get_lowest_layer(conn->stream);
  tcp::resolver resolver(strand_);
  auto [rec, results] = co_await resolver.async_resolve(config_.host, config_.port, as_tuple);
  if (rec) {
    co_return std::pair{rec, nullptr};
  }
  if (aborted_) {  // the resolver is not a connection abort_all() could close
    co_return std::pair{error_code(asio::error::operation_aborted), nullptr};
  }
  lowest.expires_after(config_.connect_timeout);
  auto [cec, ep] = co_await lowest.async_connect(results, as_tuple);
  if (cec) {
    co_return std::pair{cec, nullptr};
  }
  lowest.socket().set_option(tcp::no_delay(true));
  // SNI and host name verification (nginx: proxy_ssl_server_name on, proxy_ssl_verify on).
  if (!SSL_set_tlsext_host_name(conn->stream.native_handle(), config_.server_name.c_str())) {
    co_return std::pair{error_code(asio::error::invalid_argument), nullptr};
  }
  conn->stream.set_verify_callback(ssl::host_name_verification(config_.server_name));
  auto [hec] = co_await conn->stream.async_handshake(ssl::stream_base::client, as_tuple);
  if (hec) {
    co_return std::pair{hec, nullptr};
  }
  co_return std::pair{error_code{}, std::move(conn)};
}

asio::awaitable<std::pair<error_code, std::unique_ptr<upstream_response>>> upstream_client::get(
    std::string target, std::string range) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (aborted_) {
      co_return std::pair{error_code(asio::error::operation_aborted), nullptr};
    }
    std::unique_ptr<upstream_connection> conn;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      auto [ec, fresh] = co_await connect();
      if (ec) {
        co_return std::pair{ec, nullptr};
      }
      conn = std::move(fresh);
    }
    http::request<http::empty_body> req{http::verb::get, config_.base_path + encode_path(target),
                                        11};
    req.set(http::field::host, host_field(config_));
    req.set(http::field::user_agent, "lxcdn-mirror");
    req.set("X-LXC-No-GeoIP", "on");
    if (!range.empty()) {
      req.set(http::field::range, range);
    }
    auto& lowest = beast::get_lowest_layer(conn->stream);
    lowest.expires_after(config_.header_timeout);
    auto [wec, wn] = co_await http::async_write(conn->stream, req, as_tuple);
    if (!wec) {
      conn->parser.emplace();
      conn->parser->body_limit(boost::none);
      auto [hec, hn] = co_await http::async_read_header(conn->stream, conn->buffer, *conn->parser,
                                                        as_tuple);
      if (!hec) {
        co_return std::pair{error_code{},
                            std::make_unique<upstream_response>(std::move(conn), *this)};
      }
      if (!conn->reused || attempt == 1) {
        co_return std::pair{hec, nullptr};
      }
    } else if (!conn->reused || attempt == 1) {
      co_return std::pair{wec, nullptr};
    }
    // A kept-alive connection the upstream had closed: retry once on a fresh one.
  }
  co_return std::pair{error_code(asio::error::connection_aborted), nullptr};
}

asio::awaitable<std::pair<error_code, std::string>> upstream_client::fetch_text(
    std::string target, std::size_t limit, unsigned* status) {
  auto [ec, resp] = co_await get(std::move(target));
  if (ec) {
    co_return std::pair{ec, std::string()};
  }
  if (status) {
    *status = resp->status();
  }
  std::string out;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    auto [rec, n] = co_await resp->read_some(buf);
    if (rec) {
      co_return std::pair{rec, std::string()};
    }
    if (n == 0) {
      break;
    }
    out.append(buf.data(), n);
    if (out.size() > limit) {
      co_return std::pair{error_code(asio::error::message_size), std::string()};
    }
  }
  co_return std::pair{error_code{}, std::move(out)};
}

}  // namespace lxcdn::mirror
