#include "demo/demo.hpp"

#include <tuple>

#include "core/atomic_file.hpp"
#include "demo/demo_config.hpp"
#include "demo/image_builder.hpp"
#include "demo/sample_images.hpp"
#include "demo/test_ca.hpp"
#include "demo/tool_runner.hpp"
#include "simplestreams/write_index.hpp"

namespace lxcdn::demo {

namespace {

// 2026-11-27 12:00 UTC: creation_date and mtime of every demo image, serial "20261127_12:00".
// Fixed, so a second run rebuilds byte-identical files with the same fingerprints (a daemon that
// cached them stays consistent with the index).
constexpr std::int64_t demo_build_time = 1795780800;

}  // namespace

std::string host_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::vector<std::pair<std::string, std::string>> demo_overrides() {
  // The most specific network wins: 127.0.0.3 is "JP", the rest of loopback "DE".
  return {{"127.0.0.0/8", "DE"}, {"::1", "DE"}, {"127.0.0.3", "JP"}};
}

prepared_demo prepare_demo(const demo_options& options) {
  namespace fs = std::filesystem;
  const auto dir = fs::absolute(options.dir).lexically_normal();
  const auto www = dir / "www";
  const auto scratch = dir / "build";
  fs::create_directories(www);

  const auto images = demo_images(demo_build_time);
  const auto tools = find_build_tools();
  const auto applets = parse_applet_list(run_tool(tools.busybox, {"--list-full"}));
  for (const auto& image : images) {
    build_image(image, rootfs_entries(image, applets, tools.busybox), www, scratch, tools);
  }
  fs::remove_all(scratch);

  simplestreams::write_index(www);

  const auto tls = ensure_test_ca(dir / "tls", demo_certificate_hosts(options.host));
  // The mirrors fill from the origin's HTTPS port and the origin's mirror list names their
  // ports: all must be known (not 0) for those references to be written.
  const bool mirrors_configured =
      options.https_port != 0 && options.mirror_a_port != 0 && options.mirror_b_port != 0;
  prepared_demo out{.dir = dir, .origin_config = dir / "origin.yaml",
                    .ca_certificate = tls.ca_certificate,
                    .sample_image_path =
                        "/" + (image_directory("", images.front()) / "rootfs.squashfs").string()};
  demo_origin_settings origin{.root = www,
                              .host = options.host,
                              .https_port = options.https_port,
                              .http_port = options.http_port,
                              .certificate = tls.certificate,
                              .key = tls.key};
  if (mirrors_configured) {
    origin.mirrors = {
        {"a", host_port(options.host, options.mirror_a_port), "DE", "Frankfurt (demo mirror A)"},
        {"b", host_port(options.host, options.mirror_b_port), "JP", "Tokyo (demo mirror B)"}};
    origin.overrides = demo_overrides();
    origin.ca_file = tls.ca_certificate;
  }
  write_file_atomically(out.origin_config, render_origin_yaml(origin));
  if (options.https_port != 0) {
    const auto upstream = "https://" + host_port(options.host, options.https_port);
    for (auto [name, port, config] :
         {std::tuple{"a", options.mirror_a_port, &out.mirror_a_config},
          std::tuple{"b", options.mirror_b_port, &out.mirror_b_config}}) {
      const auto cache = dir / (std::string("cache-") + name);
      fs::create_directories(cache);
      *config = dir / (std::string("mirror-") + name + ".yaml");
      write_file_atomically(*config, render_mirror_yaml({.upstream_url = upstream,
                                                         .ca_file = out.ca_certificate,
                                                         .cache_dir = cache,
                                                         .host = options.host,
                                                         .port = port,
                                                         .certificate = tls.certificate,
                                                         .key = tls.key}));
    }
  } else {
    // Configs of an earlier run would name ports that no longer fit.
    std::error_code ec;
    fs::remove(dir / "mirror-a.yaml", ec);
    fs::remove(dir / "mirror-b.yaml", ec);
  }
  return out;
}

}  // namespace lxcdn::demo
