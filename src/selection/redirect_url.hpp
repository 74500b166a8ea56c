#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <boost/container/small_vector.hpp>

#include "selection/mirror.hpp"

namespace lxcdn::selection {

// A mirror base URL split up: scheme, authority (lower-case host, ":port" only when not the
// scheme's default) and path prefix (no trailing '/', may be empty).
struct base_url {
  std::string scheme;
  std::string authority;
  std::string path;

  std::string text() const { return scheme + "://" + authority + path; }
};

// Parses "https://fra.mirror.example.org/lxc/" style base URLs for `scheme` ("http"/"https").
// Refuses another scheme, an empty host, user info, a query or a fragment. Pure.
std::optional<base_url> parse_base_url(std::string_view text, std::string_view scheme);

// The normalised form of an authority as a client writes it in Host ("Images.Example.org:443"
// for https is "images.example.org"). Pure.
std::string normalize_authority(std::string_view authority, std::string_view scheme);

// Recognises base URLs that point at this origin: their authority equals one of `self` (host
// compared without regard to case, default ports ignored; an entry without a port matches that
// host on any port). `self` holds the request's Host and `selection.origin_names`. Splits the
// entries once, so a decision over many mirrors compares without allocating (nor does building
// it, for up to four entries). Holds views into `self`, which must outlive it.
class self_matcher {
 public:
  self_matcher(std::span<const std::string_view> self, std::string_view scheme);
  bool matches(std::string_view mirror_base) const;

 private:
  struct entry {
    std::string_view host;
    std::string_view port;  // "" = any port
  };
  boost::container::small_vector<entry, 4> entries_;
  std::string_view scheme_;
};

// self_matcher(self, scheme).matches(mirror_base), for a single check.
bool points_at_self(std::string_view mirror_base, std::string_view scheme,
                    std::span<const std::string_view> self);

// True for request targets that may be redirected at all: GETs of files below /images/
// (origin-form, or absolute-form whose path is), after normalisation (http/target.hpp) has
// accepted them. Everything else, the index above all, is served by the origin. Pure.
bool is_redirectable_target(std::string_view raw_target);

enum class redirect_refusal {
  none,
  not_images,         // not below /images/ (or a target the origin refuses anyway)
  no_url_for_scheme,  // the mirror has no base URL for the request's scheme
  points_at_self,     // the mirror URL is this origin: a redirect would loop
};
std::string_view to_string(redirect_refusal r);

struct redirect {
  std::string location;  // the Location header value; empty when refused
  redirect_refusal refusal = redirect_refusal::none;
};

// The redirect for `raw_target` (the request-target exactly as received) to mirror `m`: the
// mirror's base URL for the request's own `scheme` followed by the target's path and query
// verbatim, so `//`, `:` and percent-escapes reach the mirror as the client wrote them
// (lxc-download requests "//images/..."; lxc-ci serials hold ':'). Pure.
redirect build_redirect(std::string_view scheme, std::string_view raw_target, const mirror& m,
                        std::span<const std::string_view> self);

}  // namespace lxcdn::selection
