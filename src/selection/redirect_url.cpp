#include "selection/redirect_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/text.hpp"
#include "http/target.hpp"

namespace lxcdn::selection {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool equal_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equal_nocase(s.substr(0, prefix.size()), prefix);
}

// Splits "host:port" / "[v6]:port" / "host" at the port's colon; port is "" when absent.
std::pair<std::string_view, std::string_view> split_port(std::string_view authority) {
  const auto colon = authority.rfind(':');
  const auto bracket = authority.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket) ||
      (bracket == std::string_view::npos && authority.find(':') != colon)) {
    return {authority, {}};
  }
  return {authority.substr(0, colon), authority.substr(colon + 1)};
}

// The port as it matters: "" for none and for the scheme's default.
std::string_view effective_port(std::string_view port, std::string_view scheme) {
  return (scheme == "http" && port == "80") || (scheme == "https" && port == "443")
             ? std::string_view()
             : port;
}

bool valid_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return std::all_of(host.begin() + 1, host.end() - 1,
                       [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.';
  });
}

bool valid_port(std::string_view port) {
  unsigned n = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  return ec == std::errc() && p == port.data() + port.size() && n >= 1 && n <= 65535;
}

// The part of a request target a redirect carries: everything from the path on. For absolute
// form ("http://host/images/x") that is what follows the authority.
std::string_view path_and_query(std::string_view raw) {
  if (starts_with_nocase(raw, "http://") || starts_with_nocase(raw, "https://")) {
    const auto slash = raw.find('/', raw.find("://") + 3);
    return slash == std::string_view::npos ? std::string_view() : raw.substr(slash);
  }
  return raw;
}

}  // namespace

std::string normalize_authority(std::string_view authority, std::string_view scheme) {
  auto a = lower(authority);
  auto [host, port] = split_port(a);
  return effective_port(port, scheme).empty() ? std::string(host) : a;
}

std::optional<base_url> parse_base_url(std::string_view text, std::string_view scheme) {
  const std::string prefix = std::string(scheme) + "://";
  if (!starts_with_nocase(text, prefix) || text.find_first_of("?#@ \t") != std::string_view::npos) {
    return std::nullopt;
  }
  auto rest = text.substr(prefix.size());
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto [host, port] = split_port(authority);
  if (!valid_host(host) || (authority.size() != host.size() && !valid_port(port))) {
    return std::nullopt;
  }
  std::string path(slash == std::string_view::npos ? std::string_view() : rest.substr(slash));
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  if (std::any_of(path.begin(), path.end(),
                  [](unsigned char c) { return c < 0x21 || c == 0x7f; })) {
    return std::nullopt;
  }
  return base_url{std::string(scheme), normalize_authority(authority, scheme), std::move(path)};
}

self_matcher::self_matcher(std::span<const std::string_view> self, std::string_view scheme)
    : scheme_(scheme) {
  entries_.reserve(self.size());
  for (const auto& s : self) {
    auto [host, port] = split_port(s);
    entries_.push_back({host, port});
  }
}

bool self_matcher::matches(std::string_view mirror_base) const {
  // Configured base URLs start with one of the two schemes; the search is for anything else.
  std::size_t start = 0;
  if (mirror_base.starts_with("https://")) {
    start = 8;
  } else if (mirror_base.starts_with("http://")) {
    start = 7;
  } else if (const auto at = mirror_base.find("://"); at != std::string_view::npos) {
    start = at + 3;
  } else {
    return false;
  }
  auto authority = mirror_base.substr(start);
  authority = authority.substr(0, authority.find('/'));
  return std::any_of(entries_.begin(), entries_.end(), [&](const entry& e) {
    // The host, then nothing or ":port" (a prefix test: no split on the hot path).
    if (authority.size() < e.host.size() ||
        !equal_nocase(authority.substr(0, e.host.size()), e.host)) {
      return false;
    }
    const auto rest = authority.substr(e.host.size());
    if (!rest.empty() && rest.front() != ':') {
      return false;
    }
    return e.port.empty() || effective_port(e.port, scheme_) ==
                                 effective_port(rest.empty() ? rest : rest.substr(1), scheme_);
  });
}

bool points_at_self(std::string_view mirror_base, std::string_view scheme,
                    std::span<const std::string_view> self) {
  return self_matcher(self, scheme).matches(mirror_base);
}

bool is_redirectable_target(std::string_view raw_target) {
  // The origin asks twice per redirect about the same target (its handler, to choose between a
  // lookup and serving locally; then build_redirect, which checks by itself): the last answer
  // on this thread is kept, keyed by the whole target. Both buffers are reused: no allocation
  // per request.
  thread_local http::target t;
  thread_local std::string last;
  thread_local bool last_answer = false;
  if (!last.empty() && raw_target == last) {
    return last_answer;
  }
  http::normalize_target_into(raw_target, t);
  last_answer = t.error == http::target_error::none && t.path.starts_with("/images/");
  last.assign(raw_target);
  return last_answer;
}

std::string_view to_string(redirect_refusal r) {
  switch (r) {
    case redirect_refusal::none:
      return "none";
    case redirect_refusal::not_images:
      return "not_images";
    case redirect_refusal::no_url_for_scheme:
      return "no_url_for_scheme";
    case redirect_refusal::points_at_self:
      return "points_at_self";
  }
  return "none";
}

redirect build_redirect(std::string_view scheme, std::string_view raw_target, const mirror& m,
                        std::span<const std::string_view> self) {
  if (!is_redirectable_target(raw_target)) {
    return {{}, redirect_refusal::not_images};
  }
  const auto& base = m.base_url(scheme);
  if (base.empty()) {
    return {{}, redirect_refusal::no_url_for_scheme};
  }
  if (points_at_self(base, scheme, self)) {
    return {{}, redirect_refusal::points_at_self};
  }
  const auto rest = path_and_query(raw_target);
  redirect r;
  r.location.reserve(base.size() + rest.size());
  r.location.append(base).append(rest);
  return r;
}

}  // namespace lxcdn::selection
