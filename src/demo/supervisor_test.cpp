#include "demo/supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lxcdn::demo {
namespace {

using namespace std::chrono_literals;

TEST(ListeningUrl, PicksTheUrlOfListeningLinesOnly) {
  EXPECT_EQ(listening_url("lxcdn origin listening on https://127.0.0.1:8443"),
            "https://127.0.0.1:8443");
  EXPECT_EQ(listening_url("lxcdn mirror listening on http://[::1]:80\r"), "http://[::1]:80");
  EXPECT_FALSE(listening_url("lxcdn origin: listening soon"));
  EXPECT_FALSE(listening_url("something listening on http://x:1"));
  EXPECT_FALSE(listening_url("lxcdn origin listening on ftp://x:1"));
}

// A child that records its pid in `pid_file`, prints `lines` listening lines and waits for
// SIGTERM, on which it writes "stopped" to `pid_file`.stopped.
child_spec fake_server(const std::string& name, int lines, const std::filesystem::path& pid_file) {
  std::string script =
      "trap 'echo stopped > " + pid_file.string() + ".stopped; kill $! 2>/dev/null; exit 0' TERM; " +
      "echo $$ > " + pid_file.string() + "; ";
  for (int i = 0; i < lines; ++i) {
    script += "echo 'lxcdn fake listening on http://127.0.0.1:" + std::to_string(1000 + i) + "'; ";
  }
  // Blocks in `wait` (which a trapped signal interrupts) on a child that stands for the work.
  // The child gets none of the test's descriptors: if it ever outlives the shell (a SIGKILL
  // after the grace), it must not hold ctest's output pipe open, which made ctest wait for it
  // (twice a unit-test run took exactly 600 s, the length of the old `sleep 600`).
  script += "sleep 120 </dev/null >/dev/null 2>&1 & wait $!";
  return {name, {"/bin/sh", "-c", script}, static_cast<std::size_t>(lines)};
}

class Supervisor : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lxcdn-supervisor-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Supervisor, StartsInOrderReportsUrlsAndStopsAllOnSigterm) {
  std::vector<child_spec> children{fake_server("one", 2, dir_ / "one"),
                                   fake_server("two", 1, dir_ / "two")};
  std::vector<std::vector<std::string>> seen;
  int rc = supervise(children, [&](const auto& urls) {
    seen = urls;
    ::kill(::getpid(), SIGTERM);  // what Ctrl-C or a service manager does
  });
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<std::string>{"http://127.0.0.1:1000", "http://127.0.0.1:1001"}));
  EXPECT_EQ(seen[1], (std::vector<std::string>{"http://127.0.0.1:1000"}));
  // Each child ran its SIGTERM handler, and both were reaped before supervise returned.
  for (const char* name : {"one", "two"}) {
    std::ifstream stopped(dir_ / (std::string(name) + ".stopped"));
    std::string word;
    stopped >> word;
    EXPECT_EQ(word, "stopped") << name;
    std::ifstream pid_file(dir_ / name);
    pid_t pid = 0;
    pid_file >> pid;
    ASSERT_GT(pid, 0);
    EXPECT_NE(::kill(pid, 0), 0) << name << " still exists";
  }
}

TEST_F(Supervisor, AChildThatExitsStopsTheOthersAndFails) {
  std::vector<child_spec> children{
      fake_server("server", 1, dir_ / "server"),
      {"quitter", {"/bin/sh", "-c", "echo 'lxcdn q listening on http://h:1'; exit 3"}, 1}};
  bool ready = false;
  int rc = supervise(children, [&](const auto&) { ready = true; });
  EXPECT_EQ(rc, 1);
  std::ifstream stopped(dir_ / "server.stopped");
  std::string word;
  stopped >> word;
  EXPECT_EQ(word, "stopped");
  (void)ready;  // the quitter may exit before or after everyone was ready
}

TEST_F(Supervisor, AChildThatNeverListensFailsWithinTheReadyTimeout) {
  std::vector<child_spec> children{{"mute", {"/bin/sh", "-c", "exec sleep 60"}, 1}};
  bool ready = false;
  auto started = std::chrono::steady_clock::now();
  int rc = supervise(children, [&](const auto&) { ready = true; },
                     {.ready_timeout = 300ms, .stop_timeout = 10s});
  EXPECT_EQ(rc, 1);
  EXPECT_FALSE(ready);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST_F(Supervisor, AProgramThatCannotBeExecutedFails) {
  std::vector<child_spec> children{{"ghost", {(dir_ / "no-such-program").string()}, 1}};
  EXPECT_EQ(supervise(children, [](const auto&) {}), 1);
}

}  // namespace
}  // namespace lxcdn::demo
