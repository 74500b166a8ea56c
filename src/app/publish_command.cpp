#include "app/publish_command.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "publish/publish_config.hpp"
#include "publish/run_publish.hpp"
#include "publish/validate_build.hpp"

namespace lxcdn::publish {

std::unique_ptr<publish_cli> add_publish_commands(CLI::App& app) {
  auto cli = std::make_unique<publish_cli>();
  cli->validate = app.add_subcommand(
      "validate", "Check builds the way the test stage does without a container runtime; write "
                  "BUILD/.validated on success (see docs/publish.md)");
  cli->validate
      ->add_option("BUILD", cli->builds, "build directory .../<os>/<release>/<arch>/<variant>/<serial>")
      ->required();

  cli->publish = app.add_subcommand(
      "publish", "Take validated builds from the incoming directory, make a new signed, verified "
                 "generation and switch every origin node to it (see docs/publish.md)");
  cli->publish->add_option("-c,--config", cli->config, "publish YAML config")->required();
  cli->publish->add_flag("--dry-run", cli->dry_run,
                         "print what would be added, retired, deleted and skipped; write nothing");
  cli->publish
      ->add_option("--test-clock", cli->test_clock,
                   "tests only: read the current unix time from this file instead of the clock")
      ->group("");
  return cli;
}

std::optional<int> run_publish_commands(const std::unique_ptr<publish_cli>& cli) {
  if (*cli->validate) {
    int rc = 0;
    for (const auto& dir : cli->builds) {
      auto r = validate_and_mark(dir);
      if (r.ok()) {
        std::cout << "lxcdn validate: " << dir.string() << ": ok (" << r.checked.size()
                  << " checks)\n";
      } else {
        for (const auto& p : r.problems) {
          std::cerr << "lxcdn validate: " << dir.string() << ": " << p << "\n";
        }
        rc = 1;
      }
    }
    return rc;
  }
  if (*cli->publish) {
    auto config = load_publish_config(cli->config);
    publish_options opt;
    opt.dry_run = cli->dry_run;
    opt.progress = ::isatty(STDERR_FILENO) == 1;
    opt.now = [file = cli->test_clock]() -> std::int64_t {
      if (!file.empty()) {
        std::ifstream in(file);
        std::int64_t t = 0;
        if (in >> t) {
          return t;
        }
      }
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    return run_publish(config, opt, std::cout, std::cerr);
  }
  return std::nullopt;
}

}  // namespace lxcdn::publish
