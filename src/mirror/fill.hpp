#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/unique_fd.hpp"

namespace lxcdn::mirror {

class cache_store;
class upstream_client;
class index_holder;
struct mirror_metrics;
struct mirror_config;

// The shared state of one upstream fetch, read by every client waiting for that object.
// Internally synchronized: the fill coroutine (upstream strand) writes, readers on their own
// strands read and wait for changes.
class fill_state {
 public:
  enum class phase {
    waiting_for_head,  // upstream not answered yet
    streaming,         // status 200, body arriving; `available` grows
    complete,          // whole body verified (and committed if cacheable), or a bodiless answer
    failed,            // aborted: readers must abort their transfer, never complete it
  };
  struct view {
    phase state = phase::waiting_for_head;
    unsigned status = 0;            // upstream status once known
    std::uint64_t length = 0;       // body length (200)
    std::uint64_t available = 0;    // body bytes readers may send
    std::string location;           // for 301/302
    std::string error;              // for failed
    bool timed_out = false;         // failed: the upstream did not answer in time (504, not 502)
    // failed because the cache could not be written (disk full, read-only, ...) while the
    // upstream answer was good: readers go on without the cache (pass_through.hpp) from the
    // bytes they have, instead of aborting.
    bool cache_unwritable = false;
  };

  explicit fill_state(std::string key) : key_(std::move(key)) {}
  const std::string& key() const { return key_; }

  view snapshot() const;
  // The temp (later committed) file the body is written to; body at cache_header_size.
  int fd() const { return fd_.get(); }

  // Waits (on the caller's executor) until the view differs from `seen` in state or available
  // bytes, or `max_wait` passes. Never misses a change made after `seen` was taken.
  boost::asio::awaitable<void> wait_for_change(const view& seen,
                                               std::chrono::milliseconds max_wait);

  // Writer side (the fill coroutine).
  void start_body(unique_fd fd, unsigned status, std::uint64_t length);
  void advance(std::uint64_t available);
  void finish(unsigned status, std::string location);  // bodiless answers, or body complete
  void fail(std::string error, bool timed_out = false);
  // The upstream answered 200 with `length` bytes but the cache cannot hold them: the fill stops
  // here, and its readers continue from the upstream directly (view.cache_unwritable).
  void fail_cache(std::string error, std::uint64_t length);
  std::size_t readers() const;
  void add_reader();
  void remove_reader();

 private:
  struct waiter {
    explicit waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
  };
  void notify_locked();

  const std::string key_;
  unique_fd fd_;  // set once in start_body, before readers are told
  mutable std::mutex mutex_;
  view view_;                                        // guarded by mutex_
  std::vector<std::shared_ptr<waiter>> waiters_;     // guarded by mutex_
  std::size_t readers_ = 0;                          // guarded by mutex_
};

// Single flight: at most one fill per key. Internally synchronized.
class fill_registry {
 public:
  // Returns the fill in progress for `key`, or registers a new one (second = true: the caller
  // must start it).
  std::pair<std::shared_ptr<fill_state>, bool> join_or_create(const std::string& key);
  void remove(const std::string& key);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<fill_state>> fills_;  // guarded by mutex_
};

// What a fill needs; all referenced objects outlive every fill (owned by the mirror app).
struct fill_context {
  const mirror_config& config;
  cache_store& store;
  upstream_client& upstream;
  index_holder& index;
  mirror_metrics& metrics;
  fill_registry& registry;
};

// Fetches `state->key()` from the upstream, writes the body to a temp file while readers stream
// it, checks length and (when the index lists the path) size and sha256, and commits the entry.
// Runs on the upstream strand; continues when every reader has gone.
boost::asio::awaitable<void> run_fill(fill_context ctx, std::shared_ptr<fill_state> state);

// How many bytes at the end of a listed object are withheld from readers until its sha256 is
// verified, so a wrong body never reaches a client complete-looking.
inline constexpr std::uint64_t verify_holdback = 64 * 1024;

}  // namespace lxcdn::mirror
