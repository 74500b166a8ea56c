#include "mirror/fill.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include "core/sha256.hpp"
#include "mirror/cache_store.hpp"
#include "mirror/freshness.hpp"
#include "mirror/image_index.hpp"
#include "mirror/metrics.hpp"
#include "mirror/upstream_client.hpp"

namespace lxcdn::mirror {

namespace asio = boost::asio;

fill_state::view fill_state::snapshot() const {
  std::lock_guard lock(mutex_);
  return view_;
}

void fill_state::notify_locked() {
  for (auto& w : waiters_) {
    asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  }
  waiters_.clear();
}

asio::awaitable<void> fill_state::wait_for_change(const view& seen,
                                                  std::chrono::milliseconds max_wait) {
  auto w = std::make_shared<waiter>(co_await asio::this_coro::executor);
  {
    std::lock_guard lock(mutex_);
    if (view_.state != seen.state || view_.available != seen.available) {
      co_return;
    }
    waiters_.push_back(w);
  }
  // A notification posted after registration runs on this executor only once this coroutine is
  // suspended in async_wait, so it cannot be lost.
  w->timer.expires_after(max_wait);
  co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(mutex_);
  std::erase(waiters_, w);
}

void fill_state::start_body(unique_fd fd, unsigned status, std::uint64_t length) {
  fd_ = std::move(fd);
  std::lock_guard lock(mutex_);
  view_.state = phase::streaming;
  view_.status = status;
  view_.length = length;
  notify_locked();
}

void fill_state::advance(std::uint64_t available) {
  std::lock_guard lock(mutex_);
  if (available != view_.available) {
    view_.available = available;
    notify_locked();
  }
}

void fill_state::finish(unsigned status, std::string location) {
  std::lock_guard lock(mutex_);
  view_.state = phase::complete;
  view_.status = status;
  view_.available = view_.length;
  view_.location = std::move(location);
  notify_locked();
}

void fill_state::fail(std::string error, bool timed_out) {
  std::lock_guard lock(mutex_);
  view_.state = phase::failed;
  view_.error = std::move(error);
  view_.timed_out = timed_out;
  notify_locked();
}

void fill_state::fail_cache(std::string error, std::uint64_t length) {
  std::lock_guard lock(mutex_);
  if (view_.state == phase::waiting_for_head) {
    view_.status = 200;
    view_.length = length;
  }
  view_.state = phase::failed;
  view_.error = std::move(error);
  view_.cache_unwritable = true;
  notify_locked();
}

std::size_t fill_state::readers() const {
  std::lock_guard lock(mutex_);
  return readers_;
}
void fill_state::add_reader() {
  std::lock_guard lock(mutex_);
  ++readers_;
}
void fill_state::remove_reader() {
  std::lock_guard lock(mutex_);
  --readers_;
}

std::pair<std::shared_ptr<fill_state>, bool> fill_registry::join_or_create(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = fills_.find(key);
  if (it != fills_.end()) {
    return {it->second, false};
  }
  auto state = std::make_shared<fill_state>(key);
  fills_.emplace(key, state);
  return {state, true};
}

void fill_registry::remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  fills_.erase(key);
}

std::size_t fill_registry::size() const {
  std::lock_guard lock(mutex_);
  return fills_.size();
}

namespace {

// Ends a fill: fails it unless it finished, and takes it out of the registry so the next request
// goes to the cache (or starts a new fill).
struct fill_guard {
  fill_context& ctx;
  std::shared_ptr<fill_state> state;
  std::filesystem::path temp;
  bool ended = false;
  ~fill_guard() {
    if (!ended) {
      state->fail("fill abandoned");
      ++ctx.metrics.fills_failed;
    }
    if (!temp.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
    }
    --ctx.metrics.fills_in_progress;
    ctx.registry.remove(state->key());
  }
};

}  // namespace

asio::awaitable<void> run_fill(fill_context ctx, std::shared_ptr<fill_state> state) {
  ++ctx.metrics.fills_started;
  ++ctx.metrics.fills_in_progress;
  fill_guard guard{ctx, state, {}};
  const std::string& key = state->key();
  auto fail = [&](std::string why, bool integrity, bool timed_out = false) {
    spdlog::warn("fill {}: {}", key, why);
    if (integrity) {
      ++ctx.metrics.integrity_failures;
    }
    ++ctx.metrics.fills_failed;
    state->fail(std::move(why), timed_out);
    guard.ended = true;
  };

  auto [ec, resp] = co_await ctx.upstream.get(key);
  if (ec) {
    ++ctx.metrics.upstream_errors;
    // connect_timeout or header_timeout: the waiting clients get 504 (RFC 9110 §15.6.5).
    fail("upstream request failed: " + ec.message(), false, ec == boost::beast::error::timeout);
    co_return;
  }
  auto index = ctx.index.current();
  const listed_file* listed = index ? index->find(key) : nullptr;
  const unsigned status = resp->status();
  std::vector<char> buf(256 * 1024);

  if (status != 200) {
    // Bodiless for our purposes: read and drop a small body so the connection can be reused.
    std::uint64_t drained = 0;
    for (;;) {
      auto [rec, n] = co_await resp->read_some(buf);
      if (rec || n == 0 || (drained += n) > (1u << 20)) {
        break;
      }
    }
    std::string location = resp->header("Location");
    if (!is_passed_on(status)) {
      ++ctx.metrics.upstream_errors;
      fail("upstream answered " + std::to_string(status), false);
      co_return;
    }
    if (is_cacheable(status, listed != nullptr)) {
      auto [fd, temp] = ctx.store.create_temp();
      if (fd) {
        cache_meta meta{key, status, 0, ctx.store.now(), sha256_hex(""), location};
        ctx.store.commit(temp, fd.get(), meta);
      }
    }
    state->finish(status, std::move(location));
    guard.ended = true;
    co_return;
  }

  auto length = resp->content_length();
  if (!length) {
    ++ctx.metrics.upstream_errors;
    fail("upstream sent no Content-Length", false);
    co_return;
  }
  if (listed && listed->size != *length) {
    fail("upstream length " + std::to_string(*length) + " differs from the index's " +
             std::to_string(listed->size),
         true);
    co_return;
  }
  // The cache could not take the body: readers are served without it (pass_through.hpp) and the
  // operator sees it in the log, /.lxcdn/status and /metrics.
  auto cache_failed = [&](std::string why) {
    spdlog::warn("fill {}: {}; serving without the cache", key, why);
    ++ctx.metrics.cache_write_errors;
    ctx.metrics.last_cache_error_at = ctx.store.now();
    ctx.metrics.cache_writable = false;
    ++ctx.metrics.fills_failed;
    state->fail_cache(std::move(why), *length);
    guard.ended = true;
  };
  auto [fd, temp] = ctx.store.create_temp();
  if (!fd) {
    cache_failed("cannot create a temp file in the cache: " + std::string(std::strerror(errno)));
    co_return;
  }
  guard.temp = temp;
  const int wfd = fd.get();
  state->start_body(std::move(fd), 200, *length);
  const std::uint64_t holdback = listed ? std::min(verify_holdback, *length) : 0;

  sha256 hash;
  std::uint64_t written = 0;
  for (;;) {
    auto [rec, n] = co_await resp->read_some(buf);
    if (rec) {
      ++ctx.metrics.upstream_errors;
      fail("upstream body failed after " + std::to_string(written) + " bytes: " + rec.message(),
           false);
      co_return;
    }
    if (n == 0) {
      break;
    }
    if (written + n > *length) {
      fail("upstream sent more than its Content-Length", true);
      co_return;
    }
    std::size_t off = 0;
    while (off < n) {
      ssize_t w = ::pwrite(wfd, buf.data() + off, n - off,
                           static_cast<off_t>(cache_header_size + written + off));
      if (w < 0) {
        if (errno == EINTR) {
          continue;
        }
        cache_failed("cannot write the cache: " + std::string(std::strerror(errno)));
        co_return;
      }
      off += static_cast<std::size_t>(w);
    }
    hash.update(std::string_view(buf.data(), n));
    written += n;
    ctx.metrics.fill_bytes += n;
    state->advance(written > *length - holdback ? *length - holdback : written);
  }
  if (written != *length) {
    fail("upstream body ended after " + std::to_string(written) + " of " +
             std::to_string(*length) + " bytes",
         false);
    co_return;
  }
  auto digest = hash.hex_digest();
  if (listed && digest != listed->sha256) {
    fail("sha256 " + digest + " differs from the index's " + listed->sha256, true);
    co_return;
  }
  cache_meta meta{key, 200, written, ctx.store.now(), digest, ""};
  if (auto cec = ctx.store.commit(temp, wfd, meta)) {
    // The bytes are right (verified or length-checked); only caching failed. Readers finish.
    spdlog::warn("fill {}: not cached: {}", key, cec.message());
    ++ctx.metrics.cache_write_errors;
    ctx.metrics.last_cache_error_at = ctx.store.now();
    ctx.metrics.cache_writable = false;
  } else {
    ++ctx.metrics.fills_committed;
    ctx.metrics.last_fill_ok = ctx.store.now();
    ctx.metrics.cache_writable = true;
  }
  guard.temp.clear();
  state->finish(200, "");
  guard.ended = true;
}

}  // namespace lxcdn::mirror
