#include "core/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace lxcdn {

namespace {
std::optional<std::uint64_t> leading_number(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
  }
  if (i == 0 || i > 15) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + i, v);
  text.remove_prefix(i);
  return v;
}
}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto n = leading_number(text);
  if (!n) {
    return std::nullopt;
  }
  std::uint64_t ms_per_unit = 0;
  if (text.empty() || text == "s") {
    ms_per_unit = 1000;
  } else if (text == "ms") {
    ms_per_unit = 1;
  } else if (text == "m") {
    ms_per_unit = 60'000;
  } else if (text == "h") {
    ms_per_unit = 3'600'000;
  } else if (text == "d") {
    ms_per_unit = 86'400'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*n * ms_per_unit));
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  auto n = leading_number(text);
  if (!n) {
    return std::nullopt;
  }
  if (text.ends_with("iB")) {
    text.remove_suffix(2);
  } else if (text.size() == 2 && text.back() == 'B') {
    text.remove_suffix(1);
  }
  std::uint64_t mult = 1;
  if (text.empty() || text == "B") {
    mult = 1;
  } else if (text == "K" || text == "k") {
    mult = 1ULL << 10;
  } else if (text == "M") {
    mult = 1ULL << 20;
  } else if (text == "G") {
    mult = 1ULL << 30;
  } else if (text == "T") {
    mult = 1ULL << 40;
  } else {
    return std::nullopt;
  }
  if (*n > std::numeric_limits<std::uint64_t>::max() / mult) {
    return std::nullopt;
  }
  return *n * mult;
}

}  // namespace lxcdn
