#include "mirror/mirror_config.hpp"

#include <fmt/format.h>

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"
#include "net/listen_config.hpp"

namespace lxcdn::mirror {

namespace {

// Splits "https://host[:port][/prefix]" into its parts; returns an error text or "".
std::string split_upstream_url(upstream_config& u) {
  const std::string scheme = "https://";
  if (!u.url.starts_with(scheme)) {
    return "must start with https:// (the mirror fills over verified TLS only)";
  }
  auto rest = std::string_view(u.url).substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  u.base_path = std::string(path);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return "needs a host name and no user info";
  }
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return "has an unterminated IPv6 literal";
    }
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return "has junk after the IPv6 literal";
      }
      u.port = std::string(after.substr(1));
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      u.port = std::string(authority.substr(colon + 1));
    }
  }
  if (u.host.empty()) {
    return "needs a host name";  // "https://:8443/" would resolve "" to this machine
  }
  if (u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos ||
      u.port.size() > 5 || std::stoul(u.port) > 65535 || std::stoul(u.port) == 0) {
    return "has an invalid port";
  }
  return "";
}

}  // namespace

mirror_config parse_mirror_config(const std::string& yaml_text,
                                  const std::filesystem::path& source) {
  mirror_config c;
  c.source = source;
  yaml_map top(parse_yaml(yaml_text, source), "", source);

  top.require("upstream");
  auto up = top.child("upstream");
  up.require("url");
  up.get("url", c.upstream.url);
  if (auto err = split_upstream_url(c.upstream); !err.empty()) {
    up.fail("url", fmt::format("'{}' {}", c.upstream.url, err));
  }
  up.get_path("ca_file", c.upstream.ca_file);
  c.upstream.server_name = c.upstream.host;
  up.get("server_name", c.upstream.server_name);
  up.get_duration("connect_timeout", c.upstream.connect_timeout);
  up.get_duration("header_timeout", c.upstream.header_timeout);
  up.get_duration("read_timeout", c.upstream.read_timeout);
  up.get("max_idle_connections", c.upstream.max_idle_connections);
  up.get_duration("index_refresh", c.upstream.index_refresh);
  up.finish();

  top.require("cache");
  auto cache = top.child("cache");
  cache.require("dir");
  cache.get_path("dir", c.cache.dir);
  cache.get_byte_size("max_size", c.cache.max_size);
  cache.get_duration("inactive", c.cache.inactive);
  cache.get("max_waiters", c.cache.max_waiters);
  auto valid = cache.child("valid");
  valid.get_duration("200", c.cache.valid.ok);
  valid.get_duration("301_302", c.cache.valid.redirect);
  valid.get_duration("404", c.cache.valid.not_found);
  valid.finish();
  cache.finish();

  net::parse_listen_config(top, c.server);

  c.redirect_host = c.upstream.port == "443"
                        ? c.upstream.host
                        : fmt::format("{}:{}", c.upstream.host, c.upstream.port);
  if (c.upstream.host.find(':') != std::string::npos) {
    c.redirect_host = c.upstream.port == "443"
                          ? fmt::format("[{}]", c.upstream.host)
                          : fmt::format("[{}]:{}", c.upstream.host, c.upstream.port);
  }
  c.redirect_host += c.upstream.base_path;
  top.get("redirect_to", c.redirect_host);
  top.get("access_log", c.access_log);
  top.finish();
  return c;
}

mirror_config load_mirror_config(const std::filesystem::path& file) {
  return parse_mirror_config(read_config_file(file), file);
}

}  // namespace lxcdn::mirror
