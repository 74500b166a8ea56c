#include "origin/origin_handler.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>

#include "core/unique_fd.hpp"
#include "http/target.hpp"
#include "origin/static_files.hpp"

namespace lxcdn::origin {

namespace http = net::http;

origin_handler::origin_handler(const origin_config& config) : config_(config) {}

boost::asio::awaitable<bool> origin_handler::handle(const net::request& req,
                                                    net::response_sink& sink, bool keep_alive) {
  if (!config_.redirect_images_to.empty()) {
    auto target = req.message.target();
    auto no_geoip = req.message["X-LXC-No-GeoIP"];
    auto method = req.message.method();
    if ((method == http::verb::get || method == http::verb::head) &&
        !boost::beast::iequals(no_geoip, "on") &&
        lxcdn::http::normalize_target(target).path.starts_with("/images/")) {
      auto plan = net::plan_text_response(http::status::found, req.message.version(), keep_alive,
                                          method == http::verb::head, "");
      plan.head.set(http::field::location,
                    std::string(req.tls ? "https://" : "http://") + config_.redirect_images_to +
                        std::string(target));
      co_return !co_await net::write_planned(sink, plan);
    }
  }
  // The root is opened per request so a publisher that swaps a `current` symlink takes effect
  // at once, and every request resolves beneath one consistent generation.
  unique_fd root(::open(config_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  static_response plan;
  if (!root) {
    spdlog::error("cannot open root {}: {}", config_.root.string(), std::strerror(errno));
    plan = net::plan_text_response(http::status::service_unavailable, req.message.version(),
                                   keep_alive, req.message.method() == http::verb::head,
                                   "temporarily unavailable\n");
  } else {
    plan = plan_static_response(root.get(), config_.cache_control, req.message, keep_alive);
  }

  auto ec = co_await net::write_planned(sink, plan);
  if (config_.access_log) {
    spdlog::info("{} {} {} {} {} {}", req.peer.address().to_string(),
                 std::string_view(req.message.method_string()), std::string_view(req.message.target()),
                 plan.head.result_int(), sink.body_bytes_written(), ec ? ec.message() : "ok");
  }
  co_return !ec;
}

}  // namespace lxcdn::origin
