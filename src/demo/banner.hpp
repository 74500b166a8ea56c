#pragma once

#include <filesystem>
#include <string>

#include "demo/demo.hpp"

namespace lxcdn::demo {

// What `lxcdn demo` prints once everything is prepared (`running` false: --prepare-only, with
// the lines that start each process) or running (the ports and the watch lines). Both end with
// the client commands after a line containing "in another shell", indented by two spaces, so
// scripts can find them. `program` is the lxcdn binary named in the printed lines. Pure.
std::string render_banner(const demo_options& options, const prepared_demo& prepared,
                          const std::filesystem::path& program, bool running);

}  // namespace lxcdn::demo
