#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace lxcdn {

// Parses a duration as written in config files: an integer followed by a unit, "ms", "s", "m",
// "h" or "d" ("500ms", "10s", "3d"); a bare integer means seconds. Returns nullopt on anything
// else (negative, empty, unknown unit, overflow). Pure.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a byte size: an integer with an optional unit "K", "M", "G", "T" (powers of 1024,
// optional trailing "iB" or "B"), e.g. "100G", "512MiB", "4096". Returns nullopt on anything else.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace lxcdn
