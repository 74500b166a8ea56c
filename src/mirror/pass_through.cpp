#include "mirror/pass_through.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <vector>

#include "core/sha256.hpp"
#include "mirror/cache_entry.hpp"
#include "mirror/image_index.hpp"
#include "mirror/metrics.hpp"
#include "mirror/upstream_client.hpp"

namespace lxcdn::mirror {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// The upstream steps of a pass-through. Each runs on the upstream strand (where the client and
// its responses live) via co_spawn, and takes only references: they live in the awaiting
// pass_through's frame. (Coroutine lambdas with non-trivial captures are destroyed twice by
// g++ 12 when handed to co_spawn.)

// Sends the request for the rest of `span` and checks the answer's status and length; on
// success `out` holds the response. Returns what was wrong, or "".
asio::awaitable<std::string> open_rest(upstream_client& up, const pass_through_span& span,
                                       const std::string& range,
                                       std::unique_ptr<upstream_response>& out) {
  auto [ec, resp] = co_await up.get(span.key, range);
  if (ec) {
    co_return "upstream request failed: " + ec.message();
  }
  auto length = resp->content_length();
  if (range.empty()) {
    if (resp->status() != 200 || length != span.total) {
      co_return fmt::format("upstream answered {} with {} bytes, expected 200 with {}",
                            resp->status(), length.value_or(0), span.total);
    }
  } else {
    auto expect = fmt::format("bytes {}-{}/{}", span.pos, span.end - 1, span.total);
    if (resp->status() != 206 || length != span.end - span.pos ||
        resp->header("Content-Range") != expect) {
      co_return fmt::format("upstream answered {} ({}) to a Range request, expected 206 ({})",
                            resp->status(), resp->header("Content-Range"), expect);
    }
  }
  out = std::move(resp);
  co_return std::string();
}

asio::awaitable<std::pair<error_code, std::size_t>> read_rest(upstream_response& resp,
                                                              std::vector<char>& buf) {
  co_return co_await resp.read_some(buf);
}

// Destroys the response on the strand (its destructor returns the connection to the pool).
asio::awaitable<void> release_rest(std::unique_ptr<upstream_response>& resp) {
  resp.reset();
  co_return;
}

// Hashes body bytes [0, length) of the failed fill's temp file into `hash`.
bool hash_prefix(int fd, std::uint64_t length, sha256& hash, std::vector<char>& buf) {
  std::uint64_t done = 0;
  while (done < length) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(cache_header_size + done));
    if (n <= 0) {
      return false;
    }
    hash.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

asio::awaitable<bool> pass_through(fill_context ctx, net::response_sink& sink,
                                   pass_through_span span, int prefix_fd) {
  ++ctx.metrics.passthrough_requests;
  auto& up = ctx.upstream;
  auto index = ctx.index.current();
  const listed_file* listed = index ? index->find(span.key) : nullptr;
  const bool verify = listed && listed->size == span.total && span.first == 0 &&
                      span.end == span.total;
  std::vector<char> buf(256 * 1024);
  sha256 hash;
  if (verify && span.pos > 0 && (prefix_fd < 0 || !hash_prefix(prefix_fd, span.pos, hash, buf))) {
    spdlog::warn("pass-through {}: cannot read back the {} bytes already sent", span.key, span.pos);
    co_return false;
  }
  const bool whole = span.pos == 0 && span.end == span.total;
  std::string range = whole ? std::string() : fmt::format("bytes={}-{}", span.pos, span.end - 1);

  auto& strand = up.strand();
  std::unique_ptr<upstream_response> resp;  // touched on the strand only
  std::string problem =
      co_await asio::co_spawn(strand, open_rest(up, span, range, resp), asio::use_awaitable);
  if (!problem.empty()) {
    ++ctx.metrics.upstream_errors;
    spdlog::warn("pass-through {}: {}", span.key, problem);
    co_await asio::co_spawn(strand, release_rest(resp), asio::use_awaitable);
    co_return false;
  }

  // Bytes past `send_limit` wait in `tail` until the whole object's sha256 is known.
  const std::uint64_t send_limit =
      verify ? span.total - std::min(verify_holdback, span.total) : span.end;
  std::string tail;
  std::uint64_t pos = span.pos;
  bool ok = true;
  while (ok) {
    auto [rec, n] = co_await asio::co_spawn(strand, read_rest(*resp, buf), asio::use_awaitable);
    if (rec || n == 0) {
      if (rec || pos != span.end) {
        ++ctx.metrics.upstream_errors;
        spdlog::warn("pass-through {}: upstream body ended at {} of {}: {}", span.key, pos,
                     span.end, rec ? rec.message() : "short body");
        ok = false;
      }
      break;
    }
    if (pos + n > span.end) {
      spdlog::warn("pass-through {}: upstream sent more than asked", span.key);
      ok = false;
      break;
    }
    std::string_view got(buf.data(), n);
    if (verify) {
      hash.update(got);
    }
    std::size_t now = pos >= send_limit ? 0 : static_cast<std::size_t>(
                                                  std::min<std::uint64_t>(n, send_limit - pos));
    if (now > 0 && co_await sink.write_body(asio::buffer(got.data(), now))) {
      ok = false;
      break;
    }
    tail.append(got.substr(now));
    pos += n;
  }
  co_await asio::co_spawn(strand, release_rest(resp), asio::use_awaitable);
  if (!ok) {
    co_return false;
  }
  if (verify) {
    if (auto digest = hash.hex_digest(); digest != listed->sha256) {
      ++ctx.metrics.integrity_failures;
      spdlog::warn("pass-through {}: sha256 {} differs from the index's {}", span.key, digest,
                   listed->sha256);
      co_return false;
    }
  }
  co_return tail.empty() || !co_await sink.write_body(asio::buffer(tail));
}

}  // namespace lxcdn::mirror
