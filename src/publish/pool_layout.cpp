#include "publish/pool_layout.hpp"

#include "publish/fs_ops.hpp"
#include "publish/signer.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

namespace {

constexpr const char* migrating = ".current.migrating";

// Recreates `from` under `to` with hard links to its files (directories made, symlinks copied).
void link_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (fs::recursive_directory_iterator it(from), end; it != end; ++it) {
    auto dest = to / it->path().lexically_relative(from);
    if (it->is_symlink()) {
      fs::create_symlink(fs::read_symlink(it->path()), dest);
    } else if (it->is_directory()) {
      fs::create_directories(dest);
    } else {
      link_or_copy(it->path(), dest);
    }
  }
}

void ensure_symlink(const fs::path& link, const std::string& target) {
  if (read_link(link) != target) {
    replace_symlink(link, target);
  }
}

// Creates whatever is missing of the fixed parts of a tree at `root`.
void ensure_skeleton(const fs::path& root) {
  fs::create_directories(root / "images");
  fs::create_directories(root / ".generations");
  ensure_symlink(root / "streams", ".generation/streams");
  ensure_symlink(root / "meta", ".generation/meta");
}

}  // namespace

std::string pointer_target(const std::string& id) { return ".generations/" + id; }

std::string served_generation(const pool_layout& pool) {
  auto link = read_link(pool.pointer());
  if (!link || !link->starts_with(".generations/")) {
    return "";
  }
  return link->substr(13);
}

bool prepare_layout(const fs::path& base) {
  auto current = base / "current";
  auto aside = base / migrating;
  std::error_code ec;
  fs::create_directories(base);
  bool migrated = false;
  if (fs::is_symlink(current, ec)) {
    // The old layout: current -> generations/<id>, a whole tree.
    auto old = fs::canonical(current);
    auto id = old.filename().string();
    remove_tree(aside);
    link_tree(old / "images", aside / "images");
    auto gen = aside / ".generations" / id;
    fs::create_directories(gen);
    for (const char* part : {"streams", "meta", ".lxcdn-publish"}) {
      if (fs::exists(old / part, ec)) {
        link_tree(old / part, gen / part);
      }
    }
    ensure_skeleton(aside);
    replace_symlink(aside / ".generation", pointer_target(id));
    sync_file_system(aside);  // once per tree: thousands of new links
    exchange_paths(aside, current);
    migrated = true;
  }
  // After the exchange (this run's or a killed one's) `aside` is the old symlink; before it, a
  // half-built tree. Either way it goes, and so do the old generations once `current` is a tree.
  if (fs::is_symlink(aside, ec)) {
    fs::remove(aside, ec);
  } else {
    remove_tree(aside);
  }
  if (fs::is_directory(current, ec) && !fs::is_symlink(current, ec)) {
    remove_tree(base / "generations");
  }
  ensure_skeleton(current);
  return migrated;
}

void switch_generation(const pool_layout& pool, const std::string& id) {
  replace_symlink(pool.pointer(), pointer_target(id));
}

}  // namespace lxcdn::publish
