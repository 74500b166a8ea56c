#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::geoip {

// Appends `s` as a JSON string literal (quotes included; '"', '\' and control characters
// escaped; other bytes, UTF-8 included, as they are).
void append_json_string(std::string& out, std::string_view s);

// Appends a finite number in the shortest form that reads back exactly; null when not finite.
void append_json_number(std::string& out, double v);

// Appends a string literal, or null when `s` is empty.
void append_json_string_or_null(std::string& out, std::string_view s);

}  // namespace lxcdn::geoip
