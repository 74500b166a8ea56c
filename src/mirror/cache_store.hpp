#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/unique_fd.hpp"
#include "mirror/cache_entry.hpp"
#include "mirror/mirror_config.hpp"
#include "net/file_response.hpp"

namespace lxcdn::mirror {

// Unix seconds. Injected so freshness, expiry and eviction are testable without sleeping.
using clock_fn = std::function<std::int64_t()>;

// The mirror's disk cache: DIR/objects/<h[0:2]>/<h> (h = sha256 of the key), each file a
// cache_header followed by the body; DIR/tmp/ holds fills in progress. An entry becomes visible
// only by rename(2) of a complete, verified temp file, so a crash (kill -9) loses only
// unfinished fills, whose temp files are removed by open().
//
// Internally synchronized: every member may be called from any thread.
class cache_store {
 public:
  cache_store(cache_config config, clock_fn now);
  ~cache_store();
  cache_store(const cache_store&) = delete;
  cache_store& operator=(const cache_store&) = delete;

  // Creates the directories, removes leftover temp files and starts the background scan that
  // rebuilds the size/LRU accounting. Returns at once: lookups work before the scan ends because
  // an entry's file name is derived from its key. Throws config_error if DIR is unusable.
  void open();

  struct hit {
    net::open_file file;  // body at file.base = cache_header_size
    cache_meta meta;
  };
  // Opens the entry for `key`. A file whose header is malformed, whose length disagrees with it,
  // or whose body no longer hashes to the recorded sha256 is removed and counted as an integrity
  // failure (never served). Bodies are hashed once per process, and again if the file's ctime
  // changes. Records the access for LRU and inactive expiry. Does not judge freshness.
  std::optional<hit> lookup(const std::string& key);

  // A new, empty temp file for a fill.
  std::pair<unique_fd, std::filesystem::path> create_temp();

  // Writes `meta` as the header of the temp file, renames it into place (replacing any older
  // entry for the key), accounts its size and evicts least-recently-used entries past max_size.
  // On error the temp file is removed.
  std::error_code commit(const std::filesystem::path& temp, int fd, const cache_meta& meta);

  // Removes the entry for `key` (purge). Returns true if a file was removed.
  bool remove(const std::string& key);

  // Removes entries unused for `inactive`, then evicts LRU entries down to max_size.
  // Returns the number of entries removed.
  std::size_t sweep();

  struct stats_t {
    std::uint64_t bytes = 0;        // on disk, headers included
    std::uint64_t entries = 0;
    std::uint64_t evictions = 0;    // removed for size or inactivity
    std::uint64_t integrity_failures = 0;  // corrupt entries found on read or scan
    bool scan_complete = false;
  };
  stats_t stats() const;

  const std::filesystem::path& dir() const { return config_.dir; }
  std::uint64_t max_size() const { return config_.max_size; }
  std::int64_t now() const { return now_(); }

 private:
  struct record {
    std::string key;
    std::uint64_t bytes = 0;
    std::int64_t last_access = 0;
    std::int64_t touched_on_disk = 0;  // last atime written back (throttled)
    bool verified = false;
    struct timespec verified_ctime {};
    std::list<std::string>::iterator lru;  // position in lru_ (front = least recent)
  };

  std::filesystem::path object_path(const std::string& name) const;
  void scan();  // background thread body
  void account_locked(const std::string& name, const std::string& key, std::uint64_t bytes,
                      std::int64_t last_access);
  void forget_locked(const std::string& name);
  std::size_t evict_locked(std::int64_t now);
  void drop_corrupt(const std::string& name, const std::filesystem::path& path, const char* why);

  cache_config config_;
  clock_fn now_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, record> records_;  // guarded by mutex_; key = file name
  std::list<std::string> lru_;                        // guarded by mutex_
  std::uint64_t bytes_ = 0;                           // guarded by mutex_
  std::uint64_t evictions_ = 0;                       // guarded by mutex_
  std::atomic<std::uint64_t> integrity_failures_{0};
  std::atomic<bool> scan_complete_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> temp_counter_{0};
  std::jthread scanner_;
};

}  // namespace lxcdn::mirror
