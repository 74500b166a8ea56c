#include "simplestreams/scan_tree.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "simplestreams/build_rules.hpp"
#include "simplestreams/fingerprint.hpp"
#include "simplestreams/product_naming.hpp"
#include "simplestreams/write_index.hpp"

namespace lxcdn::simplestreams {

namespace {

namespace fs = std::filesystem;

// The non-hidden entries of `dir` (relative to ROOT), by name in byte order, with their type as
// lstat(2) sees it (symbolic links are not followed).
std::map<std::string, fs::file_type> list_dir(const fs::path& root, const std::string& dir) {
  std::map<std::string, fs::file_type> out;
  std::error_code ec;
  fs::directory_iterator it(root / dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.starts_with('.')) {
      continue;
    }
    std::error_code type_ec;
    auto type = it->symlink_status(type_ec).type();
    if (type_ec) {
      throw index_error("cannot stat " + it->path().string() + ": " + type_ec.message());
    }
    out.emplace(std::move(name), type);
  }
  if (ec) {
    throw index_error("cannot list " + (root / dir).string() + ": " + ec.message());
  }
  return out;
}

entry_type to_entry_type(fs::file_type t) {
  switch (t) {
    case fs::file_type::regular:
      return entry_type::regular;
    case fs::file_type::symlink:
      return entry_type::symlink;
    default:
      return entry_type::other;
  }
}

// One level of the walk below images/: the os, release, arch and variant directories.
enum class level { os, release, arch, variant };

class walker {
 public:
  explicit walker(const fs::path& root) : root_(root) {}

  scan_result run() {
    std::error_code ec;
    auto images = fs::status(root_ / "images", ec);
    if (images.type() != fs::file_type::not_found) {
      if (ec) {
        throw index_error("cannot stat " + (root_ / "images").string() + ": " + ec.message());
      }
      walk("images", level::os, {});
    }
    std::sort(result_.skipped.begin(), result_.skipped.end());
    return std::move(result_);
  }

 private:
  // Why the directory `name` at level `l` is left out, or nullopt.
  static std::optional<std::string> level_problem(const std::string& name, level l) {
    if (auto p = name_problem(name)) {
      return p;
    }
    if (l == level::arch && !is_lxd_architecture(name)) {
      return "unknown architecture \"" + name +
             "\" (not an LXD architecture name; clients would drop the product)";
    }
    return std::nullopt;
  }

  // Walks the subdirectories of `dir`, which are at level `l`; `names` holds the directory names
  // above them below images/ (empty for the os level, {os} for the release level, ...).
  void walk(const std::string& dir, level l, std::vector<std::string> names) {
    for (const auto& name : subdirectories(dir)) {
      auto path = dir + "/" + name;
      if (auto problem = level_problem(name, l)) {
        skip(path, *problem);
        continue;
      }
      auto below = names;
      below.push_back(name);
      if (l == level::variant) {
        walk_builds(path, below);
      } else {
        walk(path, static_cast<level>(static_cast<int>(l) + 1), std::move(below));
      }
    }
  }

  // The serial directories of one product directory `dir`; names = {os, release, arch, variant}.
  void walk_builds(const std::string& dir, const std::vector<std::string>& names) {
    for (const auto& serial : subdirectories(dir)) {
      auto path = dir + "/" + serial;
      if (auto problem = serial_problem(serial)) {
        skip(path, *problem);
        continue;
      }
      std::map<std::string, entry_type> entries;
      for (const auto& [name, t] : list_dir(root_, path)) {
        entries.emplace(name, to_entry_type(t));
      }
      auto files = select_build_files(entries);
      if (!files.skip_reason.empty()) {
        skip(path, files.skip_reason);
        continue;
      }
      auto key = product_name(names[0], names[1], names[2], names[3]);
      auto& p = result_.found.products[key];
      p.os = names[0];
      p.release = names[1];
      p.arch = names[2];
      p.variant = names[3];
      p.versions.emplace(serial, hash_build(root_, path, files));
    }
  }

  // The names of the real (not symlinked) directories in `dir`, in byte order. Symbolic links
  // are reported as skipped; plain files are ignored.
  std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& [name, type] : list_dir(root_, dir)) {
      if (type == fs::file_type::symlink) {
        skip(dir + "/" + name, "symbolic link (the index names only real files and directories)");
      } else if (type == fs::file_type::directory) {
        out.push_back(name);
      }
    }
    return out;
  }

  void skip(const std::string& path, const std::string& reason) {
    result_.skipped.push_back(path + ": " + reason);
  }

  fs::path root_;
  scan_result result_;
};

}  // namespace

scan_result scan_tree(const std::filesystem::path& root) {
  return walker(root).run();
}

}  // namespace lxcdn::simplestreams
