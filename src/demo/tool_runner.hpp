#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lxcdn::demo {

// Finds an executable the way a shell would: `name` itself if it contains a '/', else the first
// executable regular file called `name` in $PATH. Returns nullopt if there is none.
std::optional<std::filesystem::path> find_tool(const std::string& name);

// Same, but throws std::runtime_error "NAME not found in PATH; install PACKAGE
// (scripts/install-deps)" when the tool is missing.
std::filesystem::path require_tool(const std::string& name, const std::string& package);

// Runs `tool` with `args` (argv[1..], no shell involved) in the current directory, with the
// caller's environment plus LC_ALL=C, stdin from /dev/null. Waits for it.
// Returns the child's stdout. Throws std::runtime_error naming the tool, its exit status and the
// tail of its stderr when it cannot be started or does not exit with status 0.
std::string run_tool(const std::filesystem::path& tool, const std::vector<std::string>& args);

}  // namespace lxcdn::demo
