#include "demo/demo.hpp"

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

std::filesystem::path prepare_demo(const demo_options& options) {
  namespace fs = std::filesystem;
  const auto dir = fs::absolute(options.dir).lexically_normal();
  const auto www = dir / "www";
  const auto scratch = dir / "build";
  fs::create_directories(www);

  const auto tools = find_build_tools();
  const auto applets = parse_applet_list(run_tool(tools.busybox, {"--list-full"}));
  for (const auto& image : demo_images(demo_build_time)) {
    build_image(image, rootfs_entries(image, applets, tools.busybox), www, scratch, tools);
  }
  fs::remove_all(scratch);

  simplestreams::write_index(www);

  const auto tls = ensure_test_ca(dir / "tls", demo_certificate_hosts(options.host));
  const auto config = dir / "origin.yaml";
  write_file_atomically(config, render_origin_yaml({.root = www,
                                                    .host = options.host,
                                                    .https_port = options.https_port,
                                                    .http_port = options.http_port,
                                                    .certificate = tls.certificate,
                                                    .key = tls.key}));
  return config;
}

}  // namespace lxcdn::demo
