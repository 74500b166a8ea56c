#pragma once

#include <filesystem>
#include <string>

namespace lxcdn::publish {

// The tree of published generations, the same in the publisher's work directory and on every
// origin node (docs/publish.md, "Layout"):
//
//   <base>/current/                      the origin's root (`root: <base>/current`), a directory
//     images/<os>/<release>/<arch>/<variant>/<serial>/   the build pool: immutable build dirs
//     streams -> .generation/streams     fixed relative symlinks, made once
//     meta    -> .generation/meta
//     .generation -> .generations/<id>   the one pointer, switched with rename(2)
//     .generations/<id>/                 streams/v1/*, meta/1.0/*, .lxcdn-publish/{state,dropped}
//     .staging/                          builds on their way into the pool (removed by each run)
//
// Every symlink is relative and stays beneath `current`, so the origin's
// openat2(RESOLVE_BENEATH) follows them, and a switch of `.generation` takes effect for the next
// path the origin resolves. A value; the functions below touch the file system.
struct pool_layout {
  explicit pool_layout(const std::filesystem::path& base) : root(base / "current") {}

  std::filesystem::path root;
  std::filesystem::path images() const { return root / "images"; }
  std::filesystem::path generations() const { return root / ".generations"; }
  std::filesystem::path generation(const std::string& id) const { return generations() / id; }
  std::filesystem::path pointer() const { return root / ".generation"; }
  std::filesystem::path staging() const { return root / ".staging"; }
};

// What `.generation` names: ".generations/<id>".
std::string pointer_target(const std::string& id);

// The id of the generation `.generation` names, or "" when there is none (a new tree).
std::string served_generation(const pool_layout& pool);

// Makes `base` hold the layout. A tree of the old layout (`current` a symlink to
// `generations/<id>`, each generation a whole tree) is converted once: the new `current` is built
// beside it as `.current.migrating` (hard links to the served generation's files) and swapped
// with the symlink by renameat2(RENAME_EXCHANGE), so the origin serves the old or the new tree,
// never nothing; then the old `generations/` is removed. What a run killed half-way through
// left is finished or removed; the missing parts of a new tree are created. Returns true if it
// converted an old tree. Throws publish_error.
bool prepare_layout(const std::filesystem::path& base);

// Points `.generation` at `.generations/<id>` with one rename(2) (replace_symlink).
void switch_generation(const pool_layout& pool, const std::string& id);

}  // namespace lxcdn::publish
