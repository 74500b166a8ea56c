#include "simplestreams/build_rules.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace lxcdn::simplestreams {

namespace {

// Names and aliases from LXD's shared/osarch/architectures.go (architectureNames and
// architectureAliases), in no particular order.
constexpr std::string_view lxd_architectures[] = {
    "i686",    "i386",        "i586",       "386",           "x86",      "generic_32",
    "x86_64",  "amd64",       "generic_64", "armv6l",        "armel",    "arm",
    "armv7l",  "armhf",       "armhfp",     "armv7a_hardfp", "armv7",    "armv7a_vfpv3_hardfp",
    "armv8l",  "aarch64",     "arm64",      "arm64_generic", "ppc",      "powerpc",
    "ppc64",   "powerpc64",   "ppc64le",    "ppc64el",       "s390x",    "mips",
    "mipsel",  "mipsle",      "mips64",     "mips64el",      "mips64le", "riscv32",
    "riscv64", "loongarch64", "loong64",
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '+' || c == '-';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int two_digits(std::string_view s) {
  return (s[0] - '0') * 10 + (s[1] - '0');
}

bool is_leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// True if `s` (8 characters) is a calendar date written YYYYMMDD, as Go's time.Parse("20060102")
// accepts it.
bool is_yyyymmdd(std::string_view s) {
  if (!std::all_of(s.begin(), s.end(), is_digit)) {
    return false;
  }
  int year = two_digits(s.substr(0, 2)) * 100 + two_digits(s.substr(2, 2));
  int month = two_digits(s.substr(4, 2));
  int day = two_digits(s.substr(6, 2));
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = days[static_cast<std::size_t>(month - 1)] + (month == 2 && is_leap_year(year) ? 1 : 0);
  return day <= last;
}

}  // namespace

bool is_lxd_architecture(std::string_view arch) {
  return std::ranges::find(lxd_architectures, arch) != std::end(lxd_architectures);
}

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) {
    return "empty name";
  }
  if (name.front() == '.') {
    return "name starts with '.'";
  }
  if (!std::all_of(name.begin(), name.end(), is_name_char)) {
    return "name has characters outside [A-Za-z0-9._+-]";
  }
  return std::nullopt;
}

std::optional<std::string> serial_problem(std::string_view serial) {
  if (serial.size() < 8 || !is_yyyymmdd(serial.substr(0, 8))) {
    return "serial does not start with a valid YYYYMMDD date (clients would drop it)";
  }
  auto rest = serial.substr(8);
  if (!std::all_of(rest.begin(), rest.end(), [](char c) { return is_name_char(c) || c == ':'; })) {
    return "serial has characters outside [A-Za-z0-9._:+-]";
  }
  return std::nullopt;
}

build_selection select_build_files(const std::map<std::string, entry_type>& entries) {
  build_selection out;
  auto not_regular = [&](std::string_view name) -> std::optional<std::string> {
    auto it = entries.find(std::string(name));
    if (it == entries.end() || it->second == entry_type::regular) {
      return std::nullopt;
    }
    return std::string(name) +
           (it->second == entry_type::symlink ? " is a symbolic link" : " is not a regular file");
  };
  std::vector<std::string_view> names{"incus.tar.xz", "lxd.tar.xz"};
  for (const auto& f : root_formats) {
    names.push_back(f.file_name);
  }
  for (auto name : names) {
    if (auto problem = not_regular(name)) {
      out.skip_reason = *problem;
      return out;
    }
  }
  if (entries.contains("incus.tar.xz")) {
    out.metadata = "incus.tar.xz";
  } else if (entries.contains("lxd.tar.xz")) {
    out.metadata = "lxd.tar.xz";
  }
  for (const auto& f : root_formats) {
    if (entries.contains(std::string(f.file_name))) {
      out.roots.push_back(f.kind);
    }
  }
  if (out.metadata.empty() || out.roots.empty()) {
    out.skip_reason = out.metadata.empty()
                          ? "incomplete build: no metadata (incus.tar.xz or lxd.tar.xz)"
                          : "incomplete build: no rootfs.squashfs, disk.qcow2 or rootfs.tar.xz";
    out.metadata.clear();
    out.roots.clear();
  }
  return out;
}

}  // namespace lxcdn::simplestreams
