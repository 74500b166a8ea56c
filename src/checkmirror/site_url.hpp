#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::checkmirror {

// Where one scheme of a site is reached.
struct endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;       // name or IP literal, without brackets
  std::uint16_t port = 0;
  std::string base_path;  // prefix without trailing '/', may be empty

  // "host", "host:port", "[v6]:port": the port is left out when it is the scheme's default.
  // This is the Host header and the authority of URLs pointing here.
  std::string authority() const;
  // scheme "://" authority base_path: the base URL, without a trailing '/'.
  std::string url() const;
};

// A site URL as a user types it: "host", "host:port", "http://host[:port][/path]",
// "https://...", IPv6 literals in brackets.
struct site_url {
  std::optional<std::string> scheme;  // as written, lowercased; none if omitted
  std::string host;
  std::optional<std::uint16_t> port;  // none if omitted
  std::string path;                   // without trailing '/', may be empty
};

// Parses `text`. Returns nullopt and sets `error` (a phrase like "has an invalid port") for
// anything else: user info, an empty host, a query or fragment, a scheme other than http/https.
// Pure.
std::optional<site_url> parse_site_url(std::string_view text, std::string& error);

// The mirror's two endpoints the way the origin will use them: the origin redirects to
// "SCHEME://HOST[:PORT][/PREFIX]/images/..." keeping the client's scheme, so a mirror named with
// a port must answer both schemes on that port (lxcdn's TLS listener also answers plain HTTP),
// and one named without a port answers HTTP on 80 and HTTPS on 443. A path is the prefix of
// both. `http_port` / `https_port` override each scheme's port. Pure.
struct mirror_endpoints {
  endpoint http;
  endpoint https;
};
mirror_endpoints mirror_endpoints_for(const site_url& url, std::optional<std::uint16_t> http_port,
                                      std::optional<std::uint16_t> https_port);

// One scheme's endpoint from a base URL as the origin's mirror list writes it (`http:` or
// `https:` of an entry): the URL must name `scheme`. Returns nullopt with `error` set otherwise.
std::optional<endpoint> endpoint_for_scheme(const site_url& url, std::string_view scheme,
                                            std::string& error);

// The origin's HTTPS endpoint (the index is only ever fetched over verified TLS). A URL without
// a scheme means https; "http://" is refused. Returns nullopt with `error` set otherwise.
std::optional<endpoint> origin_endpoint_for(const site_url& url, std::string& error);

// `path` with every byte outside RFC 3986 pchar and '/' percent-encoded, for a request-target.
std::string encode_path(std::string_view path);

}  // namespace lxcdn::checkmirror
