#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::http {

// Formats `t` (seconds since the epoch, UTC) as an IMF-fixdate (RFC 9110 §5.6.7),
// e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t t);

// Parses the three date formats RFC 9110 §5.6.7 requires recipients to accept (IMF-fixdate,
// RFC 850, asctime). Returns nullopt for anything else. Pure; never throws.
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace lxcdn::http
