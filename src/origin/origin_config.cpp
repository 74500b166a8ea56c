#include "origin/origin_config.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <fstream>

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"
#include "net/listen_config.hpp"
#include "selection/selection_config.hpp"

namespace lxcdn::origin {

origin_config parse_origin_config(const std::string& yaml_text,
                                  const std::filesystem::path& source) {
  origin_config c;
  c.source = source;
  yaml_map top(parse_yaml(yaml_text, source), "", source);

  top.require("root");
  top.get_path("root", c.root);

  net::parse_listen_config(top, c.server);

  auto cc = top.child("cache_control");
  cc.get("images", c.cache_control.images);
  cc.get("streams", c.cache_control.streams);
  cc.get("other", c.cache_control.other);
  cc.finish();

  top.get("access_log", c.access_log);
  auto g = top.child("geoip");
  c.geoip = geoip::parse_geoip_config(g, source);
  c.mirrors = selection::parse_mirror_list(top);
  auto sel = top.child("selection");
  c.selection = selection::parse_selection_settings(sel);
  auto h = top.child("health");
  h.get_duration("interval", c.health.interval);
  h.get_duration("timeout", c.health.timeout);
  h.get_path("ca_file", c.health.ca_file);
  h.get("window", c.health.policy.window);
  h.get("fail_after", c.health.policy.fail_after);
  h.get("recover_after", c.health.policy.recover_after);
  std::chrono::milliseconds slow_start = c.health.policy.slow_start;
  h.get_duration("slow_start", slow_start);
  c.health.policy.slow_start = std::chrono::duration_cast<std::chrono::seconds>(slow_start);
  if (c.health.policy.window == 0 || c.health.policy.fail_after == 0 ||
      c.health.policy.fail_after > c.health.policy.window) {
    h.fail("fail_after", "must be between 1 and health.window");
  }
  if (c.health.policy.recover_after == 0) {
    h.fail("recover_after", "must be at least 1");
  }
  h.finish();
  if (top.has("admin")) {
    auto a = top.child("admin");
    c.admin.enabled = true;
    std::string listen;
    a.get("listen", listen);
    if (!listen.empty()) {
      auto colon = listen.rfind(':');
      auto host = colon == std::string::npos ? std::string() : listen.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      unsigned port = 0;
      auto digits = colon == std::string::npos ? std::string() : listen.substr(colon + 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      boost::system::error_code bad;
      boost::asio::ip::make_address(host, bad);
      if (host.empty() || bad || digits.empty() || ec != std::errc() ||
          p != digits.data() + digits.size() || port > 65535) {
        a.fail("listen", fmt::format("expected ADDRESS:PORT like 127.0.0.1:9180 or [::1]:9180, "
                                     "got '{}'", listen));
      }
      c.admin.address = host;
      c.admin.port = static_cast<std::uint16_t>(port);
    }
    a.require("token_file");
    a.get_path("token_file", c.admin.token_file);
    a.finish();
  }
  top.finish();
  return c;
}

std::string read_admin_token(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw config_error(fmt::format("{}: cannot read the admin token file", file.string()));
  }
  auto begin = line.find_first_not_of(" \t\r");
  auto end = line.find_last_not_of(" \t\r");
  auto token = begin == std::string::npos ? std::string() : line.substr(begin, end - begin + 1);
  if (token.size() < 16) {
    throw config_error(fmt::format("{}: the admin token must be at least 16 characters (e.g. "
                                   "`openssl rand -hex 32 > {}`)",
                                   file.string(), file.string()));
  }
  return token;
}

origin_config load_origin_config(const std::filesystem::path& file) {
  return parse_origin_config(read_config_file(file), file);
}

}  // namespace lxcdn::origin
