#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::publish {

// Small file-system steps of a publication. Each throws publish_error naming the path on failure.

// Hard-links `from` to `to` (a new name); across file systems, copies instead (then fsyncs).
// Returns true if it linked, false if it copied.
bool link_or_copy(const std::filesystem::path& from, const std::filesystem::path& to);

// Points the symlink `link` at `target` atomically: a temporary symlink beside it is renamed over
// it (rename(2)), so a reader resolving `link` sees the old or the new target, never nothing.
// The directory is fsynced after.
void replace_symlink(const std::filesystem::path& link, const std::string& target);

// The target of the symlink `link`, or nullopt if it does not exist or is not a symlink.
std::optional<std::string> read_link(const std::filesystem::path& link);

// Flushes the file system holding `dir` (syncfs(2)): a generation's files are on disk before the
// pointer that names them moves.
void sync_file_system(const std::filesystem::path& dir);

// The whole content of `p`, or nullopt if it cannot be opened.
std::optional<std::string> read_whole_file(const std::filesystem::path& p);

// Writes a new file in a generation that nothing names yet: no temp file and no fsync per file
// (a generation is synced whole with sync_file_system before any pointer names it).
void write_new_file(const std::filesystem::path& p, std::string_view contents);

// Removes `p` and everything below it; a missing `p` is fine.
void remove_tree(const std::filesystem::path& p);

// fsync(2) of one file or directory: what a generation adds is made durable file by file before
// the pointer that names it moves (no syncfs of a file system others write to).
void fsync_path(const std::filesystem::path& p);

// rename(2), throwing publish_error naming both paths.
void rename_path(const std::filesystem::path& from, const std::filesystem::path& to);

// Swaps `a` and `b` with one renameat2(RENAME_EXCHANGE): a reader resolving either name sees the
// old or the new object, never nothing (the one-time layout migration swaps a symlink for a
// directory, which rename(2) cannot replace).
void exchange_paths(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace lxcdn::publish
