#include "publish/hash_cache.hpp"

#include <sys/stat.h>

#include "core/sha256.hpp"
#include "simplestreams/fingerprint.hpp"
#include "simplestreams/write_index.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

std::optional<file_key> key_of(const fs::path& file) {
  struct stat st{};
  if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return file_key{static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                      st.st_mtim.tv_nsec};
}

std::optional<std::string> hash_cache::lookup(const fs::path& root, const std::string& rel) {
  auto it = previous_.files.find(rel);
  if (it == previous_.files.end()) {
    it = fresh_.files.find(rel);
    if (it == fresh_.files.end()) {
      return std::nullopt;
    }
  }
  auto key = key_of(root / rel);
  if (!key || *key != it->second.key) {
    return std::nullopt;
  }
  fresh_.files[rel] = {*key, it->second.sha256};
  return it->second.sha256;
}

void hash_cache::remember(const fs::path& root, const simplestreams::file_digest& d) {
  if (auto key = key_of(root / d.path)) {
    fresh_.files[d.path] = {*key, d.sha256};
  }
}

void hash_cache::remember_combined(const std::string& meta, const std::string& root_file,
                                   const std::string& sha) {
  fresh_.combined[{meta, root_file}] = sha;
}

simplestreams::build hash_cache::build(const fs::path& root, const std::string& dir,
                                       const simplestreams::build_selection& files) {
  simplestreams::build b;
  b.dir = dir;
  auto meta_rel = dir + "/" + files.metadata;
  auto meta_sha = lookup(root, meta_rel);
  bool cached = meta_sha.has_value();
  if (cached) {
    b.metadata = {meta_rel, fresh_.files[meta_rel].key.size, *meta_sha};
  }
  for (auto kind : files.roots) {
    if (!cached) {
      break;
    }
    auto rel = dir + "/" + std::string(simplestreams::format_of(kind).file_name);
    auto sha = lookup(root, rel);
    std::optional<std::string> combined;
    if (auto f = fresh_.combined.find({meta_rel, rel}); f != fresh_.combined.end()) {
      combined = f->second;
    } else if (auto p = previous_.combined.find({meta_rel, rel}); p != previous_.combined.end()) {
      combined = p->second;
    }
    if (!sha || !combined) {
      cached = false;
      break;
    }
    b.roots.push_back({kind, {rel, fresh_.files[rel].key.size, *sha}, *combined});
  }
  if (!cached) {
    b = simplestreams::hash_build(root, dir, files);
    ++builds_hashed_;
    files_hashed_ += 1 + b.roots.size();
    bytes_hashed_ += b.metadata.size;
    remember(root, b.metadata);
    for (const auto& r : b.roots) {
      bytes_hashed_ += r.file.size;
      remember(root, r.file);
    }
  } else {
    ++builds_reused_;
  }
  for (const auto& r : b.roots) {
    remember_combined(b.metadata.path, r.file.path, r.combined_sha256);
  }
  return b;
}

simplestreams::file_digest hash_cache::file(const fs::path& root, const std::string& rel) {
  if (auto sha = lookup(root, rel)) {
    return {rel, fresh_.files[rel].key.size, *sha};
  }
  sha256 h;
  std::uint64_t n = 0;
  if (auto ec = hash_file_into(root / rel, h, &n)) {
    throw simplestreams::index_error("cannot read " + (root / rel).string() + ": " + ec.message());
  }
  simplestreams::file_digest d{rel, n, h.hex_digest()};
  ++files_hashed_;
  bytes_hashed_ += n;
  remember(root, d);
  return d;
}

}  // namespace lxcdn::publish
