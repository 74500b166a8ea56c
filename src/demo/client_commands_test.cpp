#include "demo/client_commands.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "demo/test_support.hpp"
#include "demo/tool_runner.hpp"

namespace lxcdn::demo {
namespace {

using test_support::slurp;

namespace fs = std::filesystem;

TEST(ClientCommands, ShellQuote) {
  EXPECT_EQ(shell_quote("/a b/c"), "'/a b/c'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ClientCommands, LinesInOrder) {
  auto lines = client_commands({.remote = "lxcdn-demo",
                                .host = "127.0.0.1",
                                .https_port = 8443,
                                .ca_certificate = "/srv/demo/tls/ca.crt",
                                .alias = "busybox/1.35",
                                .instance = "c1"});
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[2], "lxc remote add lxcdn-demo https://127.0.0.1:8443 --protocol=simplestreams");
  EXPECT_EQ(lines[3], "lxc image list lxcdn-demo:");
  EXPECT_EQ(lines[4], "lxc launch lxcdn-demo:busybox/1.35 c1");
  EXPECT_EQ(lines[5], "lxc exec c1 -- cat /etc/hostname");
}

TEST(WatchCommands, OriginRedirectThenMirrorStatusMetricsAndCheck) {
  auto lines = watch_commands({.host = "127.0.0.1",
                               .origin_http_port = 8080,
                               .origin_https_port = 8443,
                               .mirror_port = 8444,
                               .mirror_b_port = 8445,
                               .source_a = "127.0.0.2",
                               .source_b = "127.0.0.3",
                               .image_path = "/images/busybox/1.35/amd64/default/x:y/rootfs.squashfs",
                               .program = "/opt/lxcdn dir/lxcdn",
                               .ca_certificate = "/srv/demo/tls/ca.crt"});
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "curl --interface 127.0.0.2 -sI "
                      "'http://127.0.0.1:8080/images/busybox/1.35/amd64/default/x:y/rootfs.squashfs'");
  EXPECT_TRUE(lines[1].starts_with("curl --interface 127.0.0.2 -sL -o /dev/null -w ")) << lines[1];
  EXPECT_EQ(lines[2], "curl -s 'http://127.0.0.1:8444/.lxcdn/status'");
  EXPECT_TRUE(lines[3].starts_with("curl -s 'http://127.0.0.1:8444/metrics' | grep ")) << lines[3];
  EXPECT_EQ(lines[4], "'/opt/lxcdn dir/lxcdn' check-mirror '127.0.0.1:8444' --origin "
                      "'https://127.0.0.1:8443' --ca-file '/srv/demo/tls/ca.crt'");
  EXPECT_EQ(lines[5], "curl --interface 127.0.0.3 -sI "
                      "'http://127.0.0.1:8080/images/busybox/1.35/amd64/default/x:y/rootfs.squashfs'");
  EXPECT_EQ(lines[6], "curl -s 'http://127.0.0.1:8080/.lxcdn/metrics' | grep "
                      "'^lxcdn_origin_redirects_total'");
  auto v6 = watch_commands({.host = "::1", .mirror_port = 9444, .image_path = "/images/f"});
  EXPECT_EQ(v6[0], "curl -sI 'http://[::1]:8080/images/f'");
  EXPECT_EQ(v6[2], "curl -s 'http://[::1]:9444/.lxcdn/status'");
  EXPECT_EQ(v6.size(), 5u);
}

TEST(ClientCommands, Ipv6HostGetsBrackets) {
  auto lines = client_commands({.host = "::1", .https_port = 9443, .ca_certificate = "/ca.crt"});
  EXPECT_EQ(lines[2], "lxc remote add lxcdn-demo https://[::1]:9443 --protocol=simplestreams");
}

// Runs the lines in bash against a stand-in `lxc` that logs its arguments: the pin lands in
// $LXD_CONF/servercerts/<remote>.crt with the CA's bytes, even from a path with a space and a
// quote.
TEST(ClientCommands, PastedIntoBashInstallThePin) {
  auto bash = find_tool("bash");
  if (!bash) {
    FAIL() << "no bash";
  }
  auto dir = fs::temp_directory_path() / ("lxcdn_client_commands_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "bin");
  fs::create_directories(dir / "it's here");
  auto ca = dir / "it's here" / "ca.crt";
  std::ofstream(ca) << "CA BYTES\n";
  auto log = dir / "lxc.log";
  {
    std::ofstream fake(dir / "bin" / "lxc");
    fake << "#!/bin/sh\necho \"$*\" >> '" << log.string() << "'\n";
  }
  fs::permissions(dir / "bin" / "lxc", fs::perms::owner_all);

  std::string script = "set -e\nexport LXD_CONF='" + (dir / "conf").string() + "'\nexport PATH='" +
                       (dir / "bin").string() + "':\"$PATH\"\n";
  for (const auto& line : client_commands({.ca_certificate = ca})) {
    script += line + "\n";
  }
  run_tool(*bash, {"-c", script});

  EXPECT_EQ(slurp(dir / "conf" / "servercerts" / "lxcdn-demo.crt"), "CA BYTES\n");
  EXPECT_EQ(slurp(log),
            "remote remove lxcdn-demo\n"
            "remote add lxcdn-demo https://127.0.0.1:8443 --protocol=simplestreams\n"
            "image list lxcdn-demo:\n"
            "launch lxcdn-demo:busybox/1.35 c1\n"
            "exec c1 -- cat /etc/hostname\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lxcdn::demo
