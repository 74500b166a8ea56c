#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace lxcdn::publish {

// The command line of `lxcdn validate BUILD...` and `lxcdn publish --config FILE`, kept out of
// main.cpp so the publisher's options live in one place. Owned by main(); the subcommand pointers
// belong to the CLI::App.
struct publish_cli {
  CLI::App* validate = nullptr;
  std::vector<std::filesystem::path> builds;
  CLI::App* publish = nullptr;
  std::filesystem::path config;
  bool dry_run = false;
  std::filesystem::path test_clock;  // hidden: unix time read from this file
};

// Registers both subcommands on `app`. The returned struct receives the parsed values.
std::unique_ptr<publish_cli> add_publish_commands(CLI::App& app);

// Runs whichever of the two was given and returns its exit status; nullopt if neither was.
// validate: 0 when every BUILD is valid (each gets its .validated marker), 1 otherwise, with one
// line per problem on stderr. publish: see run_publish (0 ok, 1 a failure, 2 a config error).
std::optional<int> run_publish_commands(const std::unique_ptr<publish_cli>& cli);

}  // namespace lxcdn::publish
