#include "origin/admin_handler.hpp"

#include <openssl/crypto.h>

#include <chrono>

#include "net/file_response.hpp"
#include "origin/origin_handler.hpp"
#include "origin/status_page.hpp"

namespace lxcdn::origin {

namespace http = net::http;

admin_route route_admin_request(std::string_view method, std::string_view target) {
  admin_route r;
  auto path = target.substr(0, target.find('?'));
  constexpr std::string_view prefix = "/v1/mirrors";
  if (!path.starts_with(prefix)) {
    return r;
  }
  path.remove_prefix(prefix.size());
  if (path.empty() || path == "/") {
    if (method != "GET" && method != "HEAD") {
      return {admin_route::kind::bad_method, {}, {}, "GET, HEAD"};
    }
    r.what = admin_route::kind::list;
    return r;
  }
  path.remove_prefix(1);
  auto slash = path.find('/');
  auto name = path.substr(0, slash);
  if (name.empty()) {
    return r;
  }
  r.mirror = std::string(name);
  if (slash == std::string_view::npos) {
    if (method != "GET" && method != "HEAD") {
      return {admin_route::kind::bad_method, {}, {}, "GET, HEAD"};
    }
    r.what = admin_route::kind::show;
    return r;
  }
  auto action = path.substr(slash + 1);
  if (action == "enable") {
    r.state = selection::operator_state::active;
  } else if (action == "drain") {
    r.state = selection::operator_state::draining;
  } else if (action == "disable") {
    r.state = selection::operator_state::disabled;
  } else {
    return {};
  }
  if (method != "POST") {
    return {admin_route::kind::bad_method, {}, {}, "POST"};
  }
  r.what = admin_route::kind::set_state;
  return r;
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view scheme = "Bearer ";
  if (token.empty() || authorization.size() != scheme.size() + token.size() ||
      !authorization.starts_with(scheme)) {
    return false;
  }
  return CRYPTO_memcmp(authorization.data() + scheme.size(), token.data(), token.size()) == 0;
}

admin_handler::admin_handler(std::string token, routing_store& routes,
                             const origin_metrics& metrics)
    : routes_(routes), metrics_(metrics), token_(std::move(token)) {}

void admin_handler::set_token(std::string token) {
  std::lock_guard lock(mutex_);
  token_ = std::move(token);
}

boost::asio::awaitable<bool> admin_handler::handle(const net::request& req,
                                                   net::response_sink& sink, bool keep_alive) {
  const auto& msg = req.message;
  bool head = msg.method() == http::verb::head;
  auto reply = [&](http::status status, std::string body, std::string_view type) {
    auto plan = net::plan_text_response(status, msg.version(), keep_alive, head, std::move(body));
    plan.head.set(http::field::content_type, type);
    plan.head.set(http::field::cache_control, "no-store");
    return plan;
  };
  bool authorized = false;
  {
    std::lock_guard lock(mutex_);
    // Exactly one Authorization field (RFC 9110 §11.6.2 defines one credential): with two,
    // which one a proxy in front checked and which one we read could differ.
    authorized = msg.count(http::field::authorization) == 1 &&
                 bearer_matches(msg[http::field::authorization], token_);
  }
  if (!authorized) {
    auto plan = reply(http::status::unauthorized, "{\"error\":\"a valid bearer token is required\"}\n",
                      "application/json");
    plan.head.set(http::field::www_authenticate, "Bearer realm=\"lxcdn admin\"");
    co_return !co_await net::write_planned(sink, plan);
  }
  auto route = route_admin_request(std::string_view(msg.method_string()),
                                   std::string_view(msg.target()));
  auto find_row = [&](const std::string& name) -> std::optional<status_row> {
    for (auto& r : origin_handler::status_rows(routes_, metrics_)) {
      if (r.entry.mirror.name == name) {
        return std::move(r);
      }
    }
    return std::nullopt;
  };
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  net::planned_response plan;
  switch (route.what) {
    case admin_route::kind::list:
      plan = reply(http::status::ok,
                   render_status_json(origin_handler::status_rows(routes_, metrics_), now),
                   "application/json");
      break;
    case admin_route::kind::set_state:
      if (routes_.set_state(route.mirror, route.state) ==
          routing_store::set_result::unknown_mirror) {
        plan = reply(http::status::not_found, "{\"error\":\"no such mirror\"}\n",
                     "application/json");
        break;
      }
      [[fallthrough]];
    case admin_route::kind::show:
      if (auto row = find_row(route.mirror)) {
        plan = reply(http::status::ok, render_mirror_json(*row), "application/json");
      } else {
        plan = reply(http::status::not_found, "{\"error\":\"no such mirror\"}\n",
                     "application/json");
      }
      break;
    case admin_route::kind::bad_method:
      plan = reply(http::status::method_not_allowed, "{\"error\":\"method not allowed\"}\n",
                   "application/json");
      plan.head.set(http::field::allow, route.allow);
      break;
    case admin_route::kind::not_found:
      plan = reply(http::status::not_found, "{\"error\":\"not found\"}\n", "application/json");
      break;
  }
  co_return !co_await net::write_planned(sink, plan);
}

}  // namespace lxcdn::origin
