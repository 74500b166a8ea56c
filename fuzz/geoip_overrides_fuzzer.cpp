// libFuzzer target: GeoIP override parsing. An input of one line is address and network text:
// parse_ip_address, parse_ip_network (the CIDR of `overrides:` and `trusted_proxies:`) and, as an
// X-Forwarded-For value, client_address. An input of several lines is a `geoip:` YAML section
// through parse_geoip_config. Checked: printed addresses and networks parse back to themselves,
// a network has no bits past its prefix and contains its base, the forwarded client is the peer
// or an address from the header, and a parsed section holds only valid overrides.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"
#include "geoip/client_address.hpp"
#include "geoip/country_table.hpp"
#include "geoip/geo_point.hpp"
#include "geoip/geoip_config.hpp"
#include "geoip/ip_network.hpp"

namespace {

using namespace lxcdn;
using namespace lxcdn::geoip;

std::string_view input_text;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "geoip_overrides invariant broken: %s\n--- input\n%.*s\n", what,
               static_cast<int>(input_text.size()), input_text.data());
  std::abort();
}

bool canonical(const ip_network& n) { return n == network_of(n.base, n.prefix); }

// True if one comma-separated entry of an X-Forwarded-For value ("a", "a:port", "[a]:port",
// blanks around) is the address `a`. Written apart from client_address.cpp, as a model.
bool listed(std::string_view value, const ip_address& a) {
  for (std::size_t pos = 0; pos <= value.size();) {
    auto comma = value.find(',', pos);
    auto entry = value.substr(pos, comma == std::string_view::npos ? value.npos : comma - pos);
    pos = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) {
      entry.remove_prefix(1);
    }
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) {
      entry.remove_suffix(1);
    }
    std::vector<std::string_view> forms = {entry};
    if (entry.starts_with('[') && entry.find(']') != std::string_view::npos) {
      forms.push_back(entry.substr(1, entry.find(']') - 1));
    }
    if (auto colon = entry.rfind(':'); colon != std::string_view::npos) {
      forms.push_back(entry.substr(0, colon));
    }
    for (auto f : forms) {
      if (auto p = parse_ip_address(f); p && *p == a) {
        return true;
      }
    }
  }
  return false;
}

void check_text(std::string_view text) {
  if (auto a = parse_ip_address(text)) {
    auto again = parse_ip_address(to_string(*a));
    if (!again || !(*again == *a)) {
      broken("an address does not parse back from its text");
    }
  }
  if (auto n = parse_ip_network(text)) {
    if (n->prefix > 128 || !canonical(*n) || !n->contains(n->base)) {
      broken("a network has bits past its prefix or does not contain its base");
    }
    if (n->base.is_v4() && n->prefix < 96) {
      broken("an IPv4 network shorter than /0");
    }
    auto again = parse_ip_network(to_string(*n));
    if (!again || !(*again == *n)) {
      broken("a network does not parse back from its text");
    }
  }
  // As X-Forwarded-For from a trusted proxy: the client is the peer or one of the entries.
  static const std::vector<ip_network> trusted = {*parse_ip_network("10.0.0.0/8"),
                                                  *parse_ip_network("2001:db8::/32")};
  const ip_address peer = *parse_ip_address("10.1.2.3");
  std::string_view values[] = {text};
  auto client = client_address(peer, values, trusted);
  if (!(client == peer) && !listed(text, client)) {
    broken("client_address invented an address that is not in the header");
  }
}

void check_section(const std::string& text) {
  const std::filesystem::path source = "/etc/lxcdn/origin.yaml";
  try {
    yaml_map section(parse_yaml(text, source), "geoip", source);
    auto s = parse_geoip_config(section, source);
    for (std::size_t i = 0; i < s.overrides.size(); ++i) {
      const auto& o = s.overrides[i];
      if (!canonical(o.network)) {
        broken("an override network has bits past its prefix");
      }
      if (!o.country.empty() && find_country(o.country) == nullptr) {
        broken("an override country that is not in the table");
      }
      if (!o.continent.empty() && !is_continent_code(o.continent)) {
        broken("an override continent that is not a continent code");
      }
      if (!o.point && o.country.empty()) {
        broken("an override that places nothing");
      }
      if (o.point && !is_valid(*o.point)) {
        broken("an override point outside the globe");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (s.overrides[j].network == o.network) {
          broken("a network overridden twice");
        }
      }
    }
    for (const auto& p : s.trusted_proxies) {
      if (!canonical(p)) {
        broken("a trusted proxy network has bits past its prefix");
      }
    }
    if (!s.database.empty() && !s.database.is_absolute()) {
      broken("the database path is not resolved against the config file's directory");
    }
  } catch (const config_error& e) {
    if (std::string_view(e.what()).substr(0, source.string().size() + 1) !=
        source.string() + ":") {
      broken("config_error does not start with the file name");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("an exception other than config_error escaped");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input_text = std::string_view(reinterpret_cast<const char*>(data), size);
  if (input_text.find('\n') == std::string_view::npos) {
    check_text(input_text);
  } else {
    check_section(std::string(input_text));
  }
  return 0;
}
