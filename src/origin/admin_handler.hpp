#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "net/request_handler.hpp"
#include "origin/origin_metrics.hpp"
#include "origin/routing_store.hpp"

namespace lxcdn::origin {

// What an admin request asks for, decided from method and path alone (pure, table-tested).
struct admin_route {
  enum class kind {
    list,        // GET /v1/mirrors
    show,        // GET /v1/mirrors/NAME
    set_state,   // POST /v1/mirrors/NAME/{enable,drain,disable}
    not_found,   // any other path
    bad_method,  // a known path with the wrong method
  };
  kind what = kind::not_found;
  std::string mirror;                                              // show, set_state
  selection::operator_state state = selection::operator_state::active;  // set_state
  std::string_view allow;  // bad_method: the Allow header
};
admin_route route_admin_request(std::string_view method, std::string_view target);

// True when `authorization` is exactly "Bearer TOKEN" (compared in constant time).
bool bearer_matches(std::string_view authorization, std::string_view token);

// The admin API (docs/operations.md): its own listener, loopback by default; every request needs
// `Authorization: Bearer TOKEN` (401 otherwise, and nothing changes). Safe to call from any
// session concurrently; set_token() may be called from any thread (SIGHUP).
class admin_handler final : public net::request_handler {
 public:
  admin_handler(std::string token, routing_store& routes, const origin_metrics& metrics);

  boost::asio::awaitable<bool> handle(const net::request& req, net::response_sink& sink,
                                      bool keep_alive) override;

  void set_token(std::string token);

 private:
  routing_store& routes_;
  const origin_metrics& metrics_;
  mutable std::mutex mutex_;
  std::string token_;  // guarded by mutex_
};

}  // namespace lxcdn::origin
