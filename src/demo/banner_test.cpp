#include "demo/banner.hpp"

#include <gtest/gtest.h>

namespace lxcdn::demo {
namespace {

const demo_options options{.dir = "/srv/demo",
                           .host = "127.0.0.1",
                           .https_port = 8443,
                           .http_port = 8080,
                           .mirror_a_port = 8444,
                           .mirror_b_port = 8445};
const prepared_demo prepared{.dir = "/srv/demo",
                             .origin_config = "/srv/demo/origin.yaml",
                             .mirror_a_config = "/srv/demo/mirror-a.yaml",
                             .mirror_b_config = "/srv/demo/mirror-b.yaml",
                             .ca_certificate = "/srv/demo/tls/ca.crt",
                             .sample_image_path = "/images/busybox/x/rootfs.squashfs"};

// The indented lines after the line containing "in another shell" (how tests read them).
std::vector<std::string> commands_after_marker(const std::string& text) {
  std::vector<std::string> out;
  bool after = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!after) {
      after = line.find("in another shell") != std::string::npos;
    } else if (line.starts_with("  ")) {
      out.push_back(line.substr(2));
    }
  }
  return out;
}

TEST(Banner, RunningNamesEveryPortThenWatchLinesThenOnlyClientCommandsAfterTheMarker) {
  auto text = render_banner(options, prepared, "/usr/bin/lxcdn", true);
  EXPECT_NE(text.find("origin on https://127.0.0.1:8443 and http://127.0.0.1:8080"),
            std::string::npos);
  EXPECT_NE(text.find("mirror A on 127.0.0.1:8444"), std::string::npos);
  EXPECT_NE(text.find("mirror B on 127.0.0.1:8445"), std::string::npos);
  EXPECT_NE(text.find("  curl --interface 127.0.0.2 -sI "
                      "'http://127.0.0.1:8080/images/busybox/x/rootfs.squashfs'\n"),
            std::string::npos);
  EXPECT_NE(text.find("  curl --interface 127.0.0.3 -sI "
                      "'http://127.0.0.1:8080/images/busybox/x/rootfs.squashfs'\n"),
            std::string::npos);
  EXPECT_NE(text.find("  curl -s 'http://127.0.0.1:8444/.lxcdn/status'\n"), std::string::npos);
  EXPECT_NE(text.find("status page http://127.0.0.1:8080/.lxcdn/mirrors"), std::string::npos);
  EXPECT_LT(text.find("curl --interface"), text.find("in another shell"));
  auto commands = commands_after_marker(text);
  ASSERT_EQ(commands.size(), 6u);
  EXPECT_EQ(commands[2], "lxc remote add lxcdn-demo https://127.0.0.1:8443 --protocol=simplestreams");
  EXPECT_TRUE(text.ends_with("lxcdn demo: running (origin, mirror A, mirror B)\n"));
}

TEST(Banner, PrepareOnlyTellsHowToStartEachProcess) {
  auto text = render_banner(options, prepared, "/usr/bin/lxcdn", false);
  EXPECT_NE(text.find("'/usr/bin/lxcdn' origin --config '/srv/demo/origin.yaml'"),
            std::string::npos);
  EXPECT_NE(text.find("'/usr/bin/lxcdn' mirror --config '/srv/demo/mirror-a.yaml'"),
            std::string::npos);
  EXPECT_NE(text.find("'/usr/bin/lxcdn' mirror --config '/srv/demo/mirror-b.yaml'"),
            std::string::npos);
  EXPECT_EQ(commands_after_marker(text).size(), 6u);

  auto no_mirrors = prepared;
  no_mirrors.mirror_a_config.clear();
  no_mirrors.mirror_b_config.clear();
  auto t = render_banner(options, no_mirrors, "/usr/bin/lxcdn", false);
  EXPECT_EQ(t.find("mirror --config"), std::string::npos);
  EXPECT_NE(t.find("no mirror configs"), std::string::npos);
}

}  // namespace
}  // namespace lxcdn::demo
