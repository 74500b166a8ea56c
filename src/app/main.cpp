// lxcdn: one binary, one subcommand per role. This file only parses the command line and hands
// plain settings to the libraries (STYLE.md: only the app reads configuration).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "checkmirror/check_mirror.hpp"
#include "core/config_error.hpp"
#include "demo/banner.hpp"
#include "demo/demo.hpp"
#include "demo/run_demo.hpp"
#include "geoip/lookup_command.hpp"
#include "mirror/mirror_config.hpp"
#include "mirror/run_mirror.hpp"
#include "origin/mirrors_command.hpp"
#include "origin/origin_config.hpp"
#include "origin/run_origin.hpp"
#include "app/publish_command.hpp"
#include "simplestreams/write_index.hpp"

#ifndef LXCDN_VERSION
#define LXCDN_VERSION "0.0.0"
#endif

namespace {

int cmd_index(const std::filesystem::path& root) {
  auto summary = lxcdn::simplestreams::write_index(root);
  for (const auto& s : summary.skipped) {
    std::cerr << "lxcdn index: skipped " << s << "\n";
  }
  std::cout << "lxcdn index: " << summary.products << " products, " << summary.versions
            << " versions, " << summary.images << " images -> " << (root / "streams/v1").string()
            << "\n";
  return 0;
}

int cmd_demo(const lxcdn::demo::demo_options& opt, bool prepare_only) {
  const auto program = std::filesystem::read_symlink("/proc/self/exe");
  if (prepare_only) {
    std::cout << lxcdn::demo::render_banner(opt, lxcdn::demo::prepare_demo(opt), program, false)
              << std::flush;
    return 0;
  }
  return lxcdn::demo::run_demo(opt, program);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lxcdn: distributes LXD and Incus images (simplestreams) from an origin cluster "
               "through regional mirrors"};
  app.set_version_flag("--version", std::string("lxcdn ") + LXCDN_VERSION);
  app.require_subcommand(1);

  std::filesystem::path origin_config;
  auto* origin = app.add_subcommand(
      "origin", "Serve the published tree over HTTP and HTTPS (index always served here); "
                "redirect /images/... to the nearest healthy mirror by GeoIP; SIGHUP reloads the "
                "mirror list, GeoIP settings and certificate");
  origin->add_option("-c,--config", origin_config, "origin YAML config (see docs/origin.md)")
      ->required();

  std::filesystem::path mirror_config;
  std::filesystem::path mirror_test_clock;
  auto* mirror = app.add_subcommand(
      "mirror", "Regional caching mirror: /images/... from a disk cache filled from the origin, "
                "everything else redirected to the origin");
  mirror->add_option("-c,--config", mirror_config, "mirror YAML config (see docs/mirror.md)")
      ->required();
  mirror
      ->add_option("--test-clock", mirror_test_clock,
                   "tests only: read the current unix time from this file instead of the clock")
      ->group("");
  std::vector<std::string> purge_paths;
  auto* purge = mirror->add_subcommand("purge", "Remove cached entries for the given paths");
  purge->fallthrough();  // `lxcdn mirror purge --config X PATH` and `mirror --config X purge`
  purge->add_option("PATH", purge_paths, "request paths, e.g. /images/debian/12/...")->required();

  lxcdn::checkmirror::check_options check_opt;
  bool check_json = false;
  auto* check_mirror = app.add_subcommand(
      "check-mirror", "Test a mirror the way the origin will; print a pass/fail report "
                      "(exit 0 only if every required check passes; see docs/mirror.md)");
  check_mirror->add_option("URL", check_opt.mirror,
                           "the mirror as the origin names it: host, host:port or http(s) URL");
  check_mirror->add_option("--origin", check_opt.origin, "the origin's base URL (https)")
      ->capture_default_str();
  check_mirror->add_option("--ca-file", check_opt.ca_file,
                           "extra trusted CA certificates (PEM), e.g. a test CA");
  check_mirror->add_option("--http-port", check_opt.http_port, "the mirror's HTTP port");
  check_mirror->add_option("--https-port", check_opt.https_port, "the mirror's HTTPS port");
  check_mirror->add_option("--http-url", check_opt.http_url,
                           "the mirror's HTTP base URL, as in the origin's mirror list");
  check_mirror->add_option("--https-url", check_opt.https_url,
                           "the mirror's HTTPS base URL, as in the origin's mirror list");
  check_mirror->add_flag("--json", check_json, "print the report as one JSON object");

  std::filesystem::path index_root;
  auto* index = app.add_subcommand(
      "index", "Scan ROOT/images/... and write ROOT/streams/v1/index.json and images.json");
  index->add_option("ROOT", index_root, "published tree (holds images/)")->required();

  // `lxcdn validate` and `lxcdn publish` (docs/publish.md).
  auto publish_cli = lxcdn::publish::add_publish_commands(app);

  lxcdn::demo::demo_options demo_opt;
  bool demo_prepare_only = false;
  auto* demo = app.add_subcommand(
      "demo", "Build sample images, index them and run a local origin and two mirrors with a "
              "test CA (0 as a port picks a free one)");
  demo->add_option("--dir", demo_opt.dir, "working directory for images, certificates and config")
      ->capture_default_str();
  demo->add_option("--https-port", demo_opt.https_port, "HTTPS port on 127.0.0.1")
      ->capture_default_str();
  demo->add_option("--http-port", demo_opt.http_port, "plain HTTP port on 127.0.0.1")
      ->capture_default_str();
  demo->add_option("--mirror-a-port", demo_opt.mirror_a_port,
                   "mirror A (HTTP and HTTPS; in DE: /images/ from 127.0.0.2 and the rest of "
                   "loopback goes there)")
      ->capture_default_str();
  demo->add_option("--mirror-b-port", demo_opt.mirror_b_port,
                   "mirror B (HTTP and HTTPS; in JP: /images/ from 127.0.0.3 goes there)")
      ->capture_default_str();
  demo->add_flag("--prepare-only", demo_prepare_only,
                 "build images, index, certificates and config, then exit");

  lxcdn::geoip::lookup_options geoip_opt;
  auto* geoip = app.add_subcommand("geoip", "GeoIP database tools (see docs/geoip.md)");
  geoip->require_subcommand(1);
  auto* geoip_lookup = geoip->add_subcommand(
      "lookup", "Print where the origin would place ADDR: country, continent, location, source");
  geoip_lookup->add_option("DB", geoip_opt.database, "MaxMind DB file (.mmdb)")->required();
  geoip_lookup->add_option("ADDR", geoip_opt.address, "IPv4 or IPv6 address")->required();
  geoip_lookup->add_flag("--json", geoip_opt.json, "print one JSON object");
  geoip_lookup->add_option("--config", geoip_opt.config,
                           "origin config whose geoip.overrides apply too");

  lxcdn::origin::mirrors_options mirrors_opt;
  auto* mirrors = app.add_subcommand(
      "mirrors", "Show and change the origin's mirrors through its admin API (see "
                 "docs/operations.md)");
  mirrors->require_subcommand(1);
  auto add_admin_flags = [&](CLI::App* c) {
    c->add_option("--admin", mirrors_opt.admin_url,
                  "admin API URL, http://ADDRESS:PORT (default: admin.listen of --config, else "
                  "http://127.0.0.1:9180)");
    c->add_option("--token-file", mirrors_opt.token_file,
                  "file holding the admin token (default: admin.token_file of --config, else "
                  "$LXCDN_ADMIN_TOKEN)");
    c->add_option("-c,--config", mirrors_opt.config, "the origin's YAML config");
    c->add_flag("--json", mirrors_opt.json, "print the API's JSON answer");
  };
  auto* mirrors_list = mirrors->add_subcommand(
      "list", "List every mirror: state (* = set through the API), health, last check, "
              "redirects per minute");
  add_admin_flags(mirrors_list);
  for (auto [verb, help] : {std::pair{"show", "Show one mirror"},
                            std::pair{"drain", "Stop new redirects to NAME (transfers in progress "
                                               "finish): maintenance"},
                            std::pair{"enable", "Put NAME back into rotation (state active)"},
                            std::pair{"disable", "Take NAME out of rotation (state disabled)"}}) {
    auto* c = mirrors->add_subcommand(verb, help);
    c->add_option("NAME", mirrors_opt.name, "the mirror's name in the origin config")->required();
    add_admin_flags(c);
  }

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (logs go to stderr)")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr; stdout carries only what scripts read (listening lines, summaries).
  spdlog::set_default_logger(spdlog::stderr_color_mt("lxcdn"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  try {
    if (*origin) {
      return lxcdn::origin::run_origin(lxcdn::origin::load_origin_config(origin_config));
    }
    if (*mirror) {
      auto config = lxcdn::mirror::load_mirror_config(mirror_config);
      if (*purge) {
        auto n = lxcdn::mirror::purge(config, purge_paths);
        return n == purge_paths.size() ? 0 : 1;
      }
      lxcdn::mirror::clock_fn clock = lxcdn::mirror::system_clock_seconds;
      if (!mirror_test_clock.empty()) {
        clock = [file = mirror_test_clock] {
          std::ifstream in(file);
          std::int64_t t = 0;
          in >> t;
          return t ? t : lxcdn::mirror::system_clock_seconds();
        };
      }
      return lxcdn::mirror::run_mirror(config, clock);
    }
    if (*check_mirror) {
      check_opt.seed = static_cast<std::uint64_t>(std::time(nullptr));
      auto report = lxcdn::checkmirror::run_check_mirror(check_opt);
      std::cout << (check_json ? lxcdn::checkmirror::render_json(report)
                               : lxcdn::checkmirror::render_text(report))
                << std::flush;
      return lxcdn::checkmirror::report_passed(report) ? 0 : 1;
    }
    if (*index) {
      return cmd_index(index_root);
    }
    if (auto rc = lxcdn::publish::run_publish_commands(publish_cli)) {
      return *rc;
    }
    if (*geoip_lookup) {
      std::cout << lxcdn::geoip::lookup_command(geoip_opt) << std::flush;
      return 0;
    }
    if (*demo) {
      return cmd_demo(demo_opt, demo_prepare_only);
    }
    if (*mirrors) {
      mirrors_opt.action = mirrors->get_subcommands().front()->get_name();
      auto r = lxcdn::origin::run_mirrors_command(mirrors_opt);
      std::cout << r.out << std::flush;
      std::cerr << r.err << std::flush;
      return r.exit_code;
    }
  } catch (const lxcdn::config_error& e) {
    std::cerr << "lxcdn: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "lxcdn: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
