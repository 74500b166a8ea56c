#include "origin/mirrors_command.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include <cstdlib>

#include "core/config_error.hpp"
#include "origin/origin_config.hpp"

namespace lxcdn::origin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

struct http_answer {
  unsigned status = 0;
  std::string body;
  std::string error;  // connection-level failure
};

struct url_parts {
  std::string host;
  std::string port;
};

std::optional<url_parts> split_admin_url(std::string url) {
  if (!url.starts_with("http://")) {
    return std::nullopt;
  }
  url = url.substr(7);
  if (auto slash = url.find('/'); slash != std::string::npos) {
    url.resize(slash);
  }
  url_parts p;
  if (url.starts_with("[")) {
    auto close = url.find(']');
    if (close == std::string::npos) {
      return std::nullopt;
    }
    p.host = url.substr(1, close - 1);
    p.port = close + 1 < url.size() && url[close + 1] == ':' ? url.substr(close + 2) : "80";
  } else {
    auto colon = url.rfind(':');
    p.host = url.substr(0, colon);
    p.port = colon == std::string::npos ? "80" : url.substr(colon + 1);
  }
  if (p.host.empty() || p.port.empty()) {
    return std::nullopt;
  }
  return p;
}

http_answer call(const url_parts& where, http::verb method, const std::string& target,
                 const std::string& token, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  http_answer answer;
  auto run = [&]() -> asio::awaitable<void> {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);  // one deadline for the whole exchange
    auto [rec, endpoints] = co_await resolver.async_resolve(where.host, where.port, tuple);
    if (rec) {
      answer.error = rec.message();
      co_return;
    }
    auto [cec, ep] = co_await stream.async_connect(endpoints, tuple);
    if (cec) {
      answer.error = cec.message();
      co_return;
    }
    http::request<http::empty_body> req{method, target, 11};
    req.set(http::field::host, where.host);
    req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::user_agent, "lxcdn-mirrors");
    req.set(http::field::connection, "close");
    if (method == http::verb::post) {
      req.content_length(0);
    }
    auto [wec, w] = co_await http::async_write(stream, req, tuple);
    if (wec) {
      answer.error = wec.message();
      co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    auto [rdec, r] = co_await http::async_read(stream, buffer, parser, tuple);
    if (rdec) {
      answer.error = rdec.message();
      co_return;
    }
    answer.status = parser.get().result_int();
    answer.body = parser.get().body();
  };
  asio::co_spawn(ioc, run(), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        answer.error = x.what();
      }
    }
  });
  ioc.run();
  return answer;
}

std::string text_of(const json::value* v) {
  if (!v || v->is_null()) {
    return "-";
  }
  if (v->is_string()) {
    return std::string(v->as_string());
  }
  return json::serialize(*v);
}

std::string line_for(const json::object& m, std::int64_t now) {
  auto state = text_of(m.if_contains("state"));
  if (auto a = m.if_contains("set_by_admin"); a && a->is_bool() && a->as_bool()) {
    state += "*";
  }
  std::string last = "never";
  if (auto lc = m.if_contains("last_check"); lc && lc->is_int64()) {
    last = fmt::format("{}s ago", std::max<std::int64_t>(0, now - lc->as_int64()));
  }
  double rpm = 0;
  if (auto r = m.if_contains("redirects_per_minute"); r && r->is_number()) {
    rpm = r->to_number<double>();
  }
  return fmt::format("{:<16} {:<10} {:<6} {:<11} {:>13.1f}  {}\n", text_of(m.if_contains("name")),
                     state, text_of(m.if_contains("health")), last, rpm,
                     text_of(m.if_contains("last_result")));
}

}  // namespace

std::string admin_url_of(const std::string& address, unsigned port) {
  return address.find(':') != std::string::npos ? fmt::format("http://[{}]:{}", address, port)
                                                 : fmt::format("http://{}:{}", address, port);
}

std::string render_mirror_table(const std::string& text, std::int64_t now) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return {};
  }
  std::string out = fmt::format("{:<16} {:<10} {:<6} {:<11} {:>13}  {}\n", "NAME", "STATE",
                                "HEALTH", "LAST CHECK", "REDIRECTS/MIN", "RESULT");
  if (auto* list = v.as_object().if_contains("mirrors"); list && list->is_array()) {
    for (const auto& m : list->as_array()) {
      if (m.is_object()) {
        out += line_for(m.as_object(), now);
      }
    }
    return out;
  }
  if (v.as_object().contains("name")) {
    return out + line_for(v.as_object(), now);
  }
  return {};
}

mirrors_outcome run_mirrors_command(const mirrors_options& options) {
  mirrors_outcome o;
  std::string url = options.admin_url;
  std::filesystem::path token_file = options.token_file;
  try {
    if (!options.config.empty()) {
      auto c = load_origin_config(options.config);
      if (!c.admin.enabled) {
        o.err = fmt::format("lxcdn mirrors: {} has no admin: section\n", options.config.string());
        o.exit_code = 2;
        return o;
      }
      if (url.empty()) {
        url = admin_url_of(c.admin.address, c.admin.port);
      }
      if (token_file.empty()) {
        token_file = c.admin.token_file;
      }
    }
    if (url.empty()) {
      url = "http://127.0.0.1:9180";
    }
    std::string token;
    if (!token_file.empty()) {
      token = read_admin_token(token_file);
    } else if (const char* env = std::getenv("LXCDN_ADMIN_TOKEN")) {
      token = env;
    }
    if (token.empty()) {
      o.err = "lxcdn mirrors: no admin token: give --token-file, --config, or set "
              "LXCDN_ADMIN_TOKEN\n";
      o.exit_code = 2;
      return o;
    }
    auto where = split_admin_url(url);
    if (!where) {
      o.err = fmt::format("lxcdn mirrors: --admin expects http://ADDRESS:PORT, got '{}'\n", url);
      o.exit_code = 2;
      return o;
    }
    http::verb method = http::verb::get;
    std::string target = "/v1/mirrors";
    if (options.action != "list") {
      if (options.name.empty() || options.name.find('/') != std::string::npos) {
        o.err = fmt::format("lxcdn mirrors {}: needs a mirror NAME\n", options.action);
        o.exit_code = 2;
        return o;
      }
      target += "/" + options.name;
      if (options.action != "show") {
        method = http::verb::post;
        target += "/" + options.action;
      }
    }
    auto answer = call(*where, method, target, token, options.timeout);
    if (!answer.error.empty()) {
      o.err = fmt::format("lxcdn mirrors: cannot reach the admin API at {}: {}\n", url,
                          answer.error);
      o.exit_code = 1;
      return o;
    }
    if (answer.status != 200) {
      std::string why = answer.body;
      while (!why.empty() && why.back() == '\n') {
        why.pop_back();
      }
      o.err = fmt::format("lxcdn mirrors: {} {}{}: HTTP {} {}\n", to_string(method), url, target,
                          answer.status, why);
      o.exit_code = 1;
      return o;
    }
    if (options.json) {
      o.out = answer.body;
    } else {
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      o.out = render_mirror_table(answer.body, now);
    }
  } catch (const config_error& e) {
    o.err = fmt::format("lxcdn mirrors: {}\n", e.what());
    o.exit_code = 2;
  }
  return o;
}

}  // namespace lxcdn::origin
