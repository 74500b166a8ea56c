#include "geoip/mmdb_database.hpp"

#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/config_error.hpp"
#include "geoip/country_table.hpp"

namespace lxcdn::geoip {
namespace {

// A path into a record, NULL-terminated, as MMDB_aget_value wants it.
using field_path = std::array<const char*, 3>;

// Where each layout keeps the country and continent codes, in order of preference.
constexpr std::array<field_path, 4> country_fields{{
    {"country", "iso_code", nullptr},             // GeoIP2, GeoLite2, DB-IP
    {"country_code", nullptr, nullptr},           // ipinfo lite, ip-location-db
    {"country", nullptr, nullptr},                // ipinfo's older country.mmdb
    {"registered_country", "iso_code", nullptr},  // GeoIP2 networks without a located country
}};
constexpr std::array<field_path, 3> continent_fields{{
    {"continent", "code", nullptr},
    {"continent_code", nullptr, nullptr},
    {"continent", nullptr, nullptr},
}};

std::optional<MMDB_entry_data_s> value_at(MMDB_entry_s entry, const field_path& path) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path.data()) != MMDB_SUCCESS || !data.has_data) {
    return std::nullopt;
  }
  return data;
}

// The first of `paths` holding a two-letter string, upper-cased; empty if none does.
template <std::size_t N>
std::string first_code(MMDB_entry_s entry, const std::array<field_path, N>& paths) {
  for (const auto& path : paths) {
    auto v = value_at(entry, path);
    if (!v || v->type != MMDB_DATA_TYPE_UTF8_STRING || v->data_size != 2) {
      continue;
    }
    std::string code(v->utf8_string, 2);
    for (auto& c : code) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z') {
      return code;
    }
  }
  return {};
}

std::optional<double> number_at(MMDB_entry_s entry, const field_path& path) {
  auto v = value_at(entry, path);
  if (v && v->type == MMDB_DATA_TYPE_DOUBLE) {
    return v->double_value;
  }
  if (v && v->type == MMDB_DATA_TYPE_FLOAT) {
    return v->float_value;
  }
  return std::nullopt;
}

// location.latitude/longitude (GeoIP2 City), else top-level latitude/longitude (flat layouts).
std::optional<geo_point> point_of(MMDB_entry_s entry) {
  for (const auto& [lat_path, lon_path] : {std::pair{field_path{"location", "latitude", nullptr},
                                                     field_path{"location", "longitude", nullptr}},
                                           std::pair{field_path{"latitude", nullptr, nullptr},
                                                     field_path{"longitude", nullptr, nullptr}}}) {
    auto lat = number_at(entry, lat_path);
    auto lon = number_at(entry, lon_path);
    if (lat && lon && is_valid({*lat, *lon})) {
      return geo_point{*lat, *lon};
    }
  }
  return std::nullopt;
}

// A decoded record, as lookup() keeps it per thread. Country and continent codes are 0, or 2
// characters.
struct decoded_record {
  std::uint64_t database = 0;  // mmdb_database::id_; 0 = empty slot
  std::uint32_t offset = 0;    // the record's offset in the data section
  char country[2] = {};
  char continent[2] = {};
  std::optional<geo_point> point;
};

// Direct-mapped by record offset. 512 entries (about 20 KiB per thread) cover every record of a
// country database and the busy part of a city one.
constexpr std::size_t record_cache_size = 512;

std::atomic<std::uint64_t> next_database_id{1};

}  // namespace

mmdb_database::mmdb_database(const std::filesystem::path& path) : id_(next_database_id++) {
  errno = 0;
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb_);
  const int open_errno = errno;
  if (status != MMDB_SUCCESS) {
    std::string reason = MMDB_strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && open_errno != 0) {
      reason += fmt::format(" ({})", std::strerror(open_errno));
    }
    throw config_error(fmt::format("{}: cannot open GeoIP database: {}", path.string(), reason));
  }
}

mmdb_database::~mmdb_database() {
  MMDB_close(&mmdb_);
}

mmdb_record mmdb_database::lookup(const ip_address& address) const {
  sockaddr_storage ss{};
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, address.bytes.data() + 12, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, address.bytes.data(), 16);
  }
  int error = MMDB_SUCCESS;
  auto result = MMDB_lookup_sockaddr(&mmdb_, reinterpret_cast<const sockaddr*>(&ss), &error);
  mmdb_record r;
  if (error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
    return r;
  }
  if (error != MMDB_SUCCESS) {
    r.error = MMDB_strerror(error);
    return r;
  }
  if (!result.found_entry) {
    return r;
  }
  r.found = true;
  // libmaxminddb counts an IPv4 address's prefix in IPv6 terms in an IPv6 database (the IPv4
  // tree hangs below ::/96) and in IPv4 terms in an IPv4 one; ip_network always uses 128 bits.
  const bool v4_tree = mmdb_.metadata.ip_version == 4;
  r.network = network_of(address, result.netmask + (address.is_v4() && v4_tree ? 96 : 0));
  thread_local std::array<decoded_record, record_cache_size> cache;
  auto& slot = cache[(result.entry.offset * 0x9E3779B1u >> 16) % record_cache_size];
  if (slot.database != id_ || slot.offset != result.entry.offset) {
    auto country = first_code(result.entry, country_fields);
    auto continent = first_code(result.entry, continent_fields);
    if (!continent.empty() && !is_continent_code(continent)) {
      continent.clear();
    }
    slot = decoded_record{id_, result.entry.offset, {}, {}, point_of(result.entry)};
    std::copy(country.begin(), country.end(), slot.country);
    std::copy(continent.begin(), continent.end(), slot.continent);
  }
  if (slot.country[0] != 0) {
    r.country.assign(slot.country, 2);
  }
  if (slot.continent[0] != 0) {
    r.continent.assign(slot.continent, 2);
  }
  r.point = slot.point;
  return r;
}

std::string mmdb_database::database_type() const {
  return mmdb_.metadata.database_type ? mmdb_.metadata.database_type : "";
}

std::uint64_t mmdb_database::build_epoch() const {
  return mmdb_.metadata.build_epoch;
}

}  // namespace lxcdn::geoip
