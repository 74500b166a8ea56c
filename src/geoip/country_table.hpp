#pragma once

#include <span>
#include <string>
#include <string_view>

#include "geoip/geo_point.hpp"

namespace lxcdn::geoip {

// One country of ISO 3166-1 (plus XK, Kosovo, which GeoIP databases use) with its continent and
// an approximate centre. The centre is where lxcdn assumes a client is when the database gives
// only a country: the geographic centroid, rounded to 0.1°, except for a few very large countries
// (US, CA, BR, RU, CN, AU) where it sits near where most people live, so that distances to
// mirrors reflect typical clients rather than empty land.
struct country_info {
  std::string_view code;       // ISO 3166-1 alpha-2, upper case, e.g. "DE"
  std::string_view continent;  // AF, AN, AS, EU, NA, OC or SA, as GeoIP2's continent.code
  geo_point centre;
};

// The whole table, sorted by code. Built into the binary; immutable.
std::span<const country_info> all_countries();

// The entry for an upper-case alpha-2 code, or nullptr when there is none. Pure, O(log n).
const country_info* find_country(std::string_view code);

// The table's code for `text` in any letter case ("de" is "DE"), or "" when there is none.
std::string canonical_country(std::string_view text);
// The same for continent codes ("eu" is "EU").
std::string canonical_continent(std::string_view text);

// Config error texts: "unknown country code 'UK' (ISO 3166-1 alpha-2, e.g. DE; the United
// Kingdom is GB)" and "unknown continent code 'Europe' (AF AN AS EU NA OC SA)".
std::string unknown_country_message(std::string_view text);
std::string unknown_continent_message(std::string_view text);

// True for the seven continent codes GeoIP2 uses: AF AN AS EU NA OC SA.
bool is_continent_code(std::string_view code);

}  // namespace lxcdn::geoip
