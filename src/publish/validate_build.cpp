#include "publish/validate_build.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "core/atomic_file.hpp"
#include "demo/tool_runner.hpp"
#include "publish/build_identity.hpp"
#include "publish/image_headers.hpp"
#include "publish/metadata_check.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

namespace {

// The file names validation knows, in the order they are checked.
constexpr std::string_view known_files[] = {"incus.tar.xz", "lxd.tar.xz",    "meta.tar.xz",
                                            "rootfs.squashfs", "disk.qcow2", "rootfs.tar.xz"};

// The message of a tool failure without the "tool exited with status N" preamble noise: the
// last non-empty line of it, which is where xz and tar say what is wrong.
std::string tool_reason(const std::exception& e) {
  std::string msg = e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  auto nl = msg.rfind('\n');
  return nl == std::string::npos ? msg : msg.substr(nl + 1);
}

std::string read_prefix(const fs::path& p, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string buf(n, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(n));
  buf.resize(static_cast<std::size_t>(in.gcount()));
  return buf;
}

struct tools {
  fs::path xz = demo::require_tool("xz", "xz-utils");
  fs::path tar = demo::require_tool("tar", "tar");
};

// Checks one tarball: xz stream, then listing. Returns its member names, or nullopt with the
// problem recorded.
std::optional<std::string> check_tarball(const tools& t, const fs::path& file,
                                         validation_report& r) {
  auto name = file.filename().string();
  try {
    demo::run_tool(t.xz, {"-t", file.string()});
  } catch (const std::runtime_error& e) {
    r.problems.push_back(name + ": xz stream damaged: " + tool_reason(e));
    return std::nullopt;
  }
  try {
    auto listing = demo::run_tool(t.tar, {"-tJf", file.string()});
    r.checked.push_back(name + ": xz stream intact, tarball lists");
    return listing;
  } catch (const std::runtime_error& e) {
    r.problems.push_back(name + ": tarball unreadable: " + tool_reason(e));
    return std::nullopt;
  }
}

void check_metadata(const tools& t, const fs::path& file, const std::string& listing,
                    const build_id& id, validation_report& r) {
  auto name = file.filename().string();
  std::string member;
  std::size_t start = 0;
  while (start < listing.size()) {
    auto end = listing.find('\n', start);
    auto line = listing.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line == "metadata.yaml" || line == "./metadata.yaml") {
      member = line;
      break;
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  if (member.empty()) {
    r.problems.push_back(name + ": no metadata.yaml in the tarball");
    return;
  }
  std::string text;
  try {
    text = demo::run_tool(t.tar, {"-xOJf", file.string(), member});
  } catch (const std::runtime_error& e) {
    r.problems.push_back(name + ": cannot extract metadata.yaml: " + tool_reason(e));
    return;
  }
  if (auto problem = metadata_problem(text, id)) {
    r.problems.push_back(name + ": " + *problem);
  } else {
    r.checked.push_back(name + ": metadata.yaml agrees with " + id.path());
  }
}

}  // namespace

validation_report validate_build(const fs::path& dir) {
  validation_report r;
  auto identity = identity_from_path(fs::absolute(dir).lexically_normal());
  if (!identity.id) {
    r.problems.push_back("not a build path: " + identity.problem);
    return r;
  }
  const build_id& id = *identity.id;

  std::map<std::string, std::uint64_t> present;  // name -> size
  for (auto name : known_files) {
    auto p = dir / name;
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    if (ec || !fs::exists(st)) {
      continue;
    }
    if (!fs::is_regular_file(st)) {
      r.problems.push_back(std::string(name) + ": not a regular file");
      continue;
    }
    auto size = fs::file_size(p, ec);
    if (ec || size == 0) {
      r.problems.push_back(std::string(name) + ": empty file");
      continue;
    }
    present.emplace(name, size);
  }
  bool lxd_meta = present.contains("incus.tar.xz") || present.contains("lxd.tar.xz");
  bool lxd_root = present.contains("rootfs.squashfs") || present.contains("disk.qcow2") ||
                  present.contains("rootfs.tar.xz");
  bool lxc_pair = present.contains("meta.tar.xz") && present.contains("rootfs.tar.xz");
  if (!r.problems.empty()) {
    return r;
  }
  if (!(lxd_meta && lxd_root) && !lxc_pair) {
    r.problems.push_back(
        "incomplete build: needs incus.tar.xz (or lxd.tar.xz) with rootfs.squashfs, disk.qcow2 or "
        "rootfs.tar.xz, or meta.tar.xz with rootfs.tar.xz");
    return r;
  }

  tools t;
  for (const auto& [name, size] : present) {
    auto p = dir / name;
    if (name == "rootfs.squashfs") {
      if (auto problem = squashfs_problem(read_prefix(p, squashfs_superblock_size), size)) {
        r.problems.push_back(name + ": " + *problem);
      } else {
        r.checked.push_back(name + ": squashfs superblock sound, " + std::to_string(size) + " bytes");
      }
    } else if (name == "disk.qcow2") {
      if (auto problem = qcow2_problem(read_prefix(p, qcow2_header_size), size)) {
        r.problems.push_back(name + ": " + *problem);
      } else {
        r.checked.push_back(name + ": qcow2 header sound, " + std::to_string(size) + " bytes");
      }
    } else {
      auto listing = check_tarball(t, p, r);
      if (listing && (name == "incus.tar.xz" || name == "lxd.tar.xz")) {
        check_metadata(t, p, *listing, id, r);
      }
    }
  }
  return r;
}

validation_report validate_and_mark(const fs::path& dir) {
  auto r = validate_build(dir);
  if (r.ok()) {
    std::string text = "# written by lxcdn validate\n";
    for (const auto& line : r.checked) {
      text += line + "\n";
    }
    write_file_atomically(dir / validated_marker, text);
  } else {
    std::error_code ec;
    fs::remove(dir / validated_marker, ec);
  }
  return r;
}

}  // namespace lxcdn::publish
