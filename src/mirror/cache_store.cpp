#include "mirror/cache_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/config_error.hpp"
#include "core/sha256.hpp"

namespace lxcdn::mirror {

namespace fs = std::filesystem;

namespace {

bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Reads the header block of an open entry file. Returns nullopt on a short or bad header.
std::optional<cache_meta> read_header(int fd) {
  std::string block(cache_header_size, '\0');
  ssize_t n = ::pread(fd, block.data(), block.size(), 0);
  if (n != static_cast<ssize_t>(block.size())) {
    return std::nullopt;
  }
  return decode_cache_header(block);
}

// Hashes the body of an entry file. Returns the hex digest, or "" on a read error.
std::string hash_body(int fd, std::uint64_t size) {
  sha256 h;
  std::vector<char> buf(1 << 20);
  std::uint64_t off = cache_header_size;
  std::uint64_t left = size;
  while (left > 0) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (n <= 0) {
      return "";
    }
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    off += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  return h.hex_digest();
}

}  // namespace

cache_store::cache_store(cache_config config, clock_fn now)
    : config_(std::move(config)), now_(std::move(now)) {}

cache_store::~cache_store() {
  stopping_ = true;
  if (scanner_.joinable()) {
    scanner_.join();
  }
}

fs::path cache_store::object_path(const std::string& name) const {
  return config_.dir / "objects" / name.substr(0, 2) / name;
}

void cache_store::open() {
  std::error_code ec;
  fs::create_directories(config_.dir / "objects", ec);
  if (!ec) {
    fs::create_directories(config_.dir / "tmp", ec);
  }
  if (ec) {
    throw config_error("cache.dir: cannot create " + config_.dir.string() + ": " + ec.message());
  }
  // Unfinished fills from a previous run (kill -9, power loss) are never committed: drop them.
  std::size_t removed = 0;
  for (const auto& e : fs::directory_iterator(config_.dir / "tmp", ec)) {
    std::error_code rec;
    fs::remove(e.path(), rec);
    ++removed;
  }
  if (removed > 0) {
    spdlog::info("cache: removed {} unfinished fills from {}", removed,
                 (config_.dir / "tmp").string());
  }
  scanner_ = std::jthread([this] { scan(); });
}

void cache_store::scan() {
  std::error_code ec;
  std::size_t found = 0;
  for (auto it = fs::recursive_directory_iterator(config_.dir / "objects", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (stopping_) {
      return;
    }
    if (!it->is_regular_file()) {
      continue;
    }
    auto path = it->path();
    auto name = path.filename().string();
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      continue;
    }
    struct stat st {};
    ::fstat(fd.get(), &st);
    auto meta = read_header(fd.get());
    if (!meta || cache_file_name(meta->key) != name ||
        static_cast<std::uint64_t>(st.st_size) != cache_header_size + meta->size) {
      drop_corrupt(name, path, "malformed entry found by the start-up scan");
      continue;
    }
    std::lock_guard lock(mutex_);
    if (!records_.contains(name)) {
      account_locked(name, meta->key, static_cast<std::uint64_t>(st.st_size), st.st_atim.tv_sec);
    }
    ++found;
  }
  scan_complete_ = true;
  spdlog::info("cache: start-up scan found {} entries", found);
  std::lock_guard lock(mutex_);
  evict_locked(now_());
}

void cache_store::account_locked(const std::string& name, const std::string& key,
                                 std::uint64_t bytes, std::int64_t last_access) {
  forget_locked(name);
  record r;
  r.key = key;
  r.bytes = bytes;
  r.last_access = last_access;
  r.touched_on_disk = last_access;
  r.lru = lru_.insert(lru_.end(), name);
  bytes_ += bytes;
  records_.emplace(name, std::move(r));
}

void cache_store::forget_locked(const std::string& name) {
  auto it = records_.find(name);
  if (it == records_.end()) {
    return;
  }
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  records_.erase(it);
}

void cache_store::drop_corrupt(const std::string& name, const fs::path& path, const char* why) {
  spdlog::warn("cache: removing {} ({})", path.string(), why);
  ++integrity_failures_;
  std::error_code ec;
  fs::remove(path, ec);
  std::lock_guard lock(mutex_);
  forget_locked(name);
}

std::optional<cache_store::hit> cache_store::lookup(const std::string& key) {
  auto name = cache_file_name(key);
  auto path = object_path(name);
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    std::lock_guard lock(mutex_);
    forget_locked(name);  // purged or evicted by another process
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::nullopt;
  }
  auto meta = read_header(fd.get());
  if (!meta || meta->key != key ||
      static_cast<std::uint64_t>(st.st_size) != cache_header_size + meta->size) {
    drop_corrupt(name, path, "header or length does not match");
    return std::nullopt;
  }
  bool must_verify = true;
  const auto now = now_();
  bool touch = false;
  {
    std::lock_guard lock(mutex_);
    auto it = records_.find(name);
    if (it == records_.end()) {
      account_locked(name, key, static_cast<std::uint64_t>(st.st_size), now);
      it = records_.find(name);
    }
    auto& r = it->second;
    must_verify = !(r.verified && same_time(r.verified_ctime, st.st_ctim));
    r.last_access = now;
    lru_.splice(lru_.end(), lru_, r.lru);
    // Persist the access time at most once an hour, so inactive expiry survives a restart.
    if (now - r.touched_on_disk > 3600) {
      r.touched_on_disk = now;
      touch = true;
    }
  }
  if (must_verify && meta->status == 200) {
    // Entries from an earlier run (or changed on disk since) are hashed before their first use:
    // a bit flip or an edit is caught here and refetched, never served.
    if (meta->sha256.empty() || hash_body(fd.get(), meta->size) != meta->sha256) {
      drop_corrupt(name, path, "body does not match its recorded sha256");
      return std::nullopt;
    }
  }
  if (touch) {
    struct timespec times[2] = {{now, 0}, {0, UTIME_OMIT}};
    ::futimens(fd.get(), times);
    ::fstat(fd.get(), &st);  // futimens changes ctime; remember the new one as verified
  }
  {
    std::lock_guard lock(mutex_);
    if (auto it = records_.find(name); it != records_.end()) {
      it->second.verified = true;
      it->second.verified_ctime = st.st_ctim;
    }
  }
  hit h;
  h.file.fd = std::move(fd);
  h.file.size = meta->size;
  h.file.mtime = meta->stored_at;
  h.file.base = cache_header_size;
  h.meta = std::move(*meta);
  return h;
}

std::pair<unique_fd, fs::path> cache_store::create_temp() {
  auto path = config_.dir / "tmp" /
              (std::to_string(::getpid()) + "." + std::to_string(temp_counter_++));
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  return {std::move(fd), path};
}

std::error_code cache_store::commit(const fs::path& temp, int fd, const cache_meta& meta) {
  auto fail = [&](int err) {
    std::error_code ec(err, std::generic_category());
    std::error_code ignored;
    fs::remove(temp, ignored);
    return ec;
  };
  auto header = encode_cache_header(meta);
  if (!header) {
    return fail(ENAMETOOLONG);
  }
  if (::pwrite(fd, header->data(), header->size(), 0) != static_cast<ssize_t>(header->size())) {
    return fail(errno ? errno : EIO);
  }
  auto name = cache_file_name(meta.key);
  auto path = object_path(name);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec || ::rename(temp.c_str(), path.c_str()) != 0) {
    return fail(ec ? ec.value() : errno);
  }
  struct stat st {};
  ::fstat(fd, &st);
  std::lock_guard lock(mutex_);
  account_locked(name, meta.key, cache_header_size + meta.size, now_());
  auto& r = records_[name];
  r.verified = true;  // we hashed every byte as it was written
  r.verified_ctime = st.st_ctim;
  evict_locked(now_());
  return {};
}

bool cache_store::remove(const std::string& key) {
  auto name = cache_file_name(key);
  std::error_code ec;
  bool removed = fs::remove(object_path(name), ec);
  std::lock_guard lock(mutex_);
  forget_locked(name);
  return removed;
}

std::size_t cache_store::evict_locked(std::int64_t now) {
  std::size_t removed = 0;
  const auto inactive_s = std::chrono::duration_cast<std::chrono::seconds>(config_.inactive).count();
  // Oldest first: inactive entries, then whatever LRU order says until under max_size.
  while (!lru_.empty()) {
    const auto& name = lru_.front();
    auto it = records_.find(name);
    bool idle = now - it->second.last_access >= inactive_s;
    if (!idle && bytes_ <= config_.max_size) {
      break;
    }
    std::error_code ec;
    fs::remove(object_path(name), ec);
    std::string copy = name;
    forget_locked(copy);
    ++evictions_;
    ++removed;
  }
  return removed;
}

std::size_t cache_store::sweep() {
  std::lock_guard lock(mutex_);
  return evict_locked(now_());
}

cache_store::stats_t cache_store::stats() const {
  std::lock_guard lock(mutex_);
  stats_t s;
  s.bytes = bytes_;
  s.entries = records_.size();
  s.evictions = evictions_;
  s.integrity_failures = integrity_failures_.load();
  s.scan_complete = scan_complete_.load();
  return s;
}

}  // namespace lxcdn::mirror
