// libFuzzer target: YAML bytes through the origin, mirror and publish config parsers (the same
// parse_*_config functions the load_*_config file loaders call). Every input must either parse
// into a config that keeps the invariants the parsers promise, or be refused with a config_error
// whose message names the file ("FILE:..."): any other exception, or a crash, is a finding.
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/config_error.hpp"
#include "mirror/mirror_config.hpp"
#include "origin/origin_config.hpp"
#include "publish/publish_config.hpp"

namespace {

using namespace lxcdn;
namespace fs = std::filesystem;

// Absolute, so every path the parsers resolve against the config file's directory is absolute.
const fs::path origin_source = "/etc/lxcdn/origin.yaml";
const fs::path mirror_source = "/etc/lxcdn/mirror.yaml";
const fs::path publish_source = "/etc/lxcdn/publish.yaml";

std::string_view input_text;

[[noreturn]] void broken(const char* parser, const char* what) {
  std::fprintf(stderr, "yaml_config invariant broken (%s): %s\n--- input\n%.*s\n", parser, what,
               static_cast<int>(input_text.size()), input_text.data());
  std::abort();
}

void check_path(const char* parser, const fs::path& p, bool required) {
  if (required ? !p.is_absolute() : (!p.empty() && !p.is_absolute())) {
    broken(parser, "a configured path is not resolved against the config file's directory");
  }
}

void check_server(const char* parser, const net::server_config& s) {
  if (s.listeners.empty()) {
    broken(parser, "no listener");
  }
  bool any_tls = false;
  for (const auto& l : s.listeners) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(l.address, ec);
    if (ec) {
      broken(parser, "listener address is not an IP address");
    }
    any_tls = any_tls || l.tls;
  }
  if (any_tls && (s.tls.certificate.empty() || s.tls.key.empty())) {
    broken(parser, "a TLS listener without certificate and key");
  }
  check_path(parser, s.tls.certificate, false);
  check_path(parser, s.tls.key, false);
  if (s.limits.max_connections == 0 || s.limits.max_header_bytes < 1024) {
    broken(parser, "limits below their minimum");
  }
}

void check_origin(const origin::origin_config& c) {
  const char* p = "origin";
  check_path(p, c.root, true);
  check_server(p, c.server);
  const auto& h = c.health.policy;
  if (h.window == 0 || h.fail_after == 0 || h.fail_after > h.window || h.recover_after == 0) {
    broken(p, "health policy outside its bounds");
  }
  for (const auto& o : c.geoip.overrides) {
    if (!(o.network == geoip::network_of(o.network.base, o.network.prefix))) {
      broken(p, "override network has bits set past its prefix");
    }
    if (!o.country.empty() && o.country.size() != 2) {
      broken(p, "override country is not an alpha-2 code");
    }
  }
  if (c.admin.enabled && c.admin.token_file.empty()) {
    broken(p, "admin enabled without a token file");
  }
  for (const auto& m : c.mirrors) {
    if (m.name.empty()) {
      broken(p, "a mirror without a name");
    }
  }
}

void check_mirror(const mirror::mirror_config& c) {
  const char* p = "mirror";
  check_server(p, c.server);
  check_path(p, c.cache.dir, true);
  check_path(p, c.upstream.ca_file, false);
  if (c.upstream.url.empty() || c.upstream.host.empty() || c.upstream.port.empty()) {
    broken(p, "upstream without url, host or port");
  }
  if (!c.upstream.base_path.empty() && c.upstream.base_path.back() == '/') {
    broken(p, "upstream base path ends with '/'");
  }
}

void check_publish(const publish::publish_config& c) {
  const char* p = "publish";
  check_path(p, c.incoming, true);
  check_path(p, c.work, true);
  if (c.targets.empty()) {
    broken(p, "no publish target");
  }
  if (c.retention.keep == 0) {
    broken(p, "retention.keep is 0");
  }
  if (c.signing.key.empty()) {
    broken(p, "no signing key");
  }
}

// Runs one parser: a config that keeps its invariants, or a config_error naming the file.
template <class Parse, class Check>
void run(const char* parser, const fs::path& source, Parse parse, Check check) {
  try {
    check(parse());
  } catch (const config_error& e) {
    std::string_view msg = e.what();
    auto name = source.string();
    if (msg.substr(0, name.size() + 1) != name + ":") {
      broken(parser, "config_error does not start with the file name");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken(parser, "an exception other than config_error escaped");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input_text = std::string_view(reinterpret_cast<const char*>(data), size);
  const std::string text(input_text);
  run("origin", origin_source, [&] { return origin::parse_origin_config(text, origin_source); },
      check_origin);
  run("mirror", mirror_source, [&] { return mirror::parse_mirror_config(text, mirror_source); },
      check_mirror);
  run("publish", publish_source,
      [&] { return publish::parse_publish_config(text, publish_source); }, check_publish);
  return 0;
}
