#include "checkmirror/site_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lxcdn::checkmirror {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::string endpoint::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) {
    h += ":" + std::to_string(port);
  }
  return h;
}

std::string endpoint::url() const { return scheme + "://" + authority() + base_path; }

std::optional<site_url> parse_site_url(std::string_view text, std::string& error) {
  site_url u;
  if (auto sep = text.find("://"); sep != std::string_view::npos) {
    u.scheme = lower(text.substr(0, sep));
    if (*u.scheme != "http" && *u.scheme != "https") {
      error = "has a scheme other than http:// or https://";
      return std::nullopt;
    }
    text.remove_prefix(sep + 3);
  }
  if (text.find_first_of("?#") != std::string_view::npos) {
    error = "has a query or fragment";
    return std::nullopt;
  }
  auto slash = text.find('/');
  auto authority = text.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  u.path = std::string(path);
  if (authority.find('@') != std::string_view::npos) {
    error = "has user info";
    return std::nullopt;
  }
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "has an unterminated IPv6 literal";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "has junk after the IPv6 literal";
        return std::nullopt;
      }
      port = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      error = "has an IPv6 literal without brackets";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (u.host.empty() || u.host.find_first_of(" \t\r\n") != std::string::npos) {
    error = "has no host name";
    return std::nullopt;
  }
  if (has_port) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 ||
        value > 65535) {
      error = "has an invalid port";
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(value);
  }
  return u;
}

mirror_endpoints mirror_endpoints_for(const site_url& url, std::optional<std::uint16_t> http_port,
                                      std::optional<std::uint16_t> https_port) {
  return {{"http", url.host, http_port.value_or(url.port.value_or(80)), url.path},
          {"https", url.host, https_port.value_or(url.port.value_or(443)), url.path}};
}

std::optional<endpoint> endpoint_for_scheme(const site_url& url, std::string_view scheme,
                                            std::string& error) {
  if (url.scheme != scheme) {
    error = "must start with " + std::string(scheme) + "://";
    return std::nullopt;
  }
  return endpoint{std::string(scheme), url.host, url.port.value_or(default_port(scheme)),
                  url.path};
}

std::optional<endpoint> origin_endpoint_for(const site_url& url, std::string& error) {
  if (url.scheme.value_or("https") != "https") {
    error = "must be https:// (the index is only trusted over verified TLS)";
    return std::nullopt;
  }
  return endpoint{"https", url.host, url.port.value_or(443), url.path};
}

std::string encode_path(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
                               std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace lxcdn::checkmirror
