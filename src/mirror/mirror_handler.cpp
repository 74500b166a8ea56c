#include "mirror/mirror_handler.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cstdio>

#include "http/content_type.hpp"
#include "http/log_text.hpp"
#include "http/range.hpp"
#include "http/target.hpp"
#include "mirror/cache_store.hpp"
#include "mirror/freshness.hpp"
#include "mirror/metrics.hpp"
#include "mirror/pass_through.hpp"
#include "mirror/upstream_client.hpp"
#include "net/file_response.hpp"

#ifndef LXCDN_VERSION
#define LXCDN_VERSION "0.0.0"
#endif

namespace lxcdn::mirror {

namespace asio = boost::asio;
namespace bhttp = net::http;
using net::planned_response;

namespace {

constexpr std::string_view image_cache_control = "public, max-age=31536000, immutable";

// Days until the certificate in `file` expires, or nullopt if it cannot be read.
std::optional<long> certificate_days_left(const std::string& file) {
  if (file.empty()) {
    return std::nullopt;
  }
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) {
    return std::nullopt;
  }
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) {
    return std::nullopt;
  }
  int days = 0, secs = 0;
  bool ok = ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) == 1;
  X509_free(cert);
  if (!ok) {
    return std::nullopt;
  }
  return days;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

mirror_handler::mirror_handler(fill_context ctx, upstream_health& health,
                               std::string certificate_file)
    : ctx_(ctx), health_(health), certificate_file_(std::move(certificate_file)) {}

std::string mirror_handler::status_json() const {
  auto s = ctx_.store.stats();
  struct statvfs vfs {};
  std::uint64_t disk_free = 0;
  if (::statvfs(ctx_.store.dir().c_str(), &vfs) == 0) {
    disk_free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  std::uint64_t headroom = s.bytes < ctx_.store.max_size() ? ctx_.store.max_size() - s.bytes : 0;
  std::string last_error;
  {
    std::lock_guard lock(health_.mutex);
    last_error = health_.last_error;
  }
  auto days = certificate_days_left(certificate_file_);
  const auto last_write_error = ctx_.metrics.last_cache_error_at.load();
  const bool writable = ctx_.metrics.cache_writable.load();
  return fmt::format(
      "{{\"version\":\"{}\",\"upstream\":{{\"url\":\"{}\",\"reachable\":{},\"last_error\":\"{}\","
      "\"last_index_refresh\":{}}},\"last_successful_fill\":{},\"cache\":{{\"bytes\":{},"
      "\"entries\":{},\"max_size\":{},\"headroom\":{},\"disk_free\":{},\"scan_complete\":{},"
      "\"write_errors\":{},\"last_write_error_at\":{},\"writable\":{}}},"
      "\"certificate_days_left\":{},\"fills_in_progress\":{},\"integrity_failures\":{},"
      "\"passthrough_requests\":{}}}\n",
      LXCDN_VERSION, json_escape(ctx_.config.upstream.url), health_.reachable.load(),
      json_escape(last_error), health_.last_success.load(), ctx_.metrics.last_fill_ok.load(),
      s.bytes, s.entries, ctx_.store.max_size(), headroom, disk_free, s.scan_complete,
      ctx_.metrics.cache_write_errors.load(), last_write_error, writable,
      days ? std::to_string(*days) : "null", ctx_.metrics.fills_in_progress.load(),
      ctx_.metrics.integrity_failures.load() + s.integrity_failures,
      ctx_.metrics.passthrough_requests.load());
}

asio::awaitable<bool> mirror_handler::handle(const net::request& req, net::response_sink& sink,
                                             bool keep_alive) {
  bool ok = co_await respond(req, sink, keep_alive);
  if (ctx_.config.access_log) {
    spdlog::info("{} {} {} {} {}", req.peer.address().to_string(),
                 std::string_view(req.message.method_string()),
                 ::lxcdn::http::log_escape(req.message.target()), sink.body_bytes_written(),
                 ok ? "ok" : "aborted");
  }
  co_return ok;
}

asio::awaitable<bool> mirror_handler::respond(const net::request& req, net::response_sink& sink,
                                              bool keep_alive) {
  const auto& msg = req.message;
  const unsigned version = msg.version();
  const bool head_only = msg.method() == bhttp::verb::head;
  planned_response plan;
  if (msg.method() != bhttp::verb::get && !head_only) {
    plan = net::plan_text_response(bhttp::status::method_not_allowed, version, keep_alive, false,
                                   "method not allowed\n");
    plan.head.set(bhttp::field::allow, "GET, HEAD");
    co_return !co_await net::write_planned(sink, plan);
  }
  std::string_view raw = msg.target();
  std::string_view raw_path = raw.substr(0, raw.find('?'));
  if (raw_path == "/.lxcdn/status" || raw_path == "/metrics") {
    bool status = raw_path == "/.lxcdn/status";
    auto s = ctx_.store.stats();
    plan = net::plan_text_response(bhttp::status::ok, version, keep_alive, head_only,
                                   status ? status_json()
                                          : ctx_.metrics.render(s.bytes, s.entries, s.evictions,
                                                                s.integrity_failures));
    plan.head.set(bhttp::field::content_type,
                  status ? "application/json" : "text/plain; version=0.0.4; charset=utf-8");
    plan.head.set(bhttp::field::cache_control, "no-store");
    co_return !co_await net::write_planned(sink, plan);
  }
  auto target = http::normalize_target(raw);
  if (target.error != http::target_error::none) {
    bool hidden = target.error == http::target_error::hidden;
    plan = net::plan_text_response(hidden ? bhttp::status::not_found : bhttp::status::bad_request,
                                   version, keep_alive, head_only,
                                   hidden ? "not found\n"
                                          : std::string(http::to_string(target.error)) + "\n");
    co_return !co_await net::write_planned(sink, plan);
  }
  if (!target.path.starts_with("/images/")) {
    // Everything but image files belongs to the origin (the index above all): same scheme, same
    // request-target, as the operators' nginx config does with $scheme and $request_uri. Only
    // its origin-form: an absolute-form target's authority names no one we redirect to (the
    // origin is fixed by config, the mirror is no open proxy or redirector).
    ++ctx_.metrics.redirects;
    plan = net::plan_text_response(bhttp::status::found, version, keep_alive, head_only, "");
    plan.head.set(bhttp::field::location, fmt::format("{}://{}{}", req.tls ? "https" : "http",
                                                      ctx_.config.redirect_host,
                                                      http::origin_form(raw)));
    co_return !co_await net::write_planned(sink, plan);
  }
  co_return co_await serve_image(req, sink, keep_alive, target.path);
}

asio::awaitable<bool> mirror_handler::serve_image(const net::request& req,
                                                  net::response_sink& sink, bool keep_alive,
                                                  const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  const auto& msg = req.message;
  const unsigned version = msg.version();
  const bool head_only = msg.method() == bhttp::verb::head;
  auto observe = [&] {
    ctx_.metrics.observe_ttfb(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };

  if (auto hit = ctx_.store.lookup(key); hit && is_fresh(hit->meta, ctx_.store.now(),
                                                         ctx_.config.cache.valid)) {
    ++ctx_.metrics.hits;
    planned_response plan;
    if (hit->meta.status == 200) {
      plan.head = net::response_head{bhttp::status::ok, version};
      plan.head.keep_alive(keep_alive);
      plan.head.set(bhttp::field::content_type, http::content_type_for(key));
      plan.head.set(bhttp::field::cache_control, image_cache_control);
      net::plan_file_body(plan, msg, std::move(hit->file),
                          "\"" + hit->meta.sha256.substr(0, 32) + "\"");
    } else if (hit->meta.status == 404) {
      plan = net::plan_text_response(bhttp::status::not_found, version, keep_alive, head_only,
                                     "not found\n");
    } else {
      plan = net::plan_text_response(static_cast<bhttp::status>(hit->meta.status), version,
                                     keep_alive, head_only, "");
      plan.head.set(bhttp::field::location, hit->meta.location);
    }
    plan.head.set("X-Cache", "HIT");
    observe();
    co_return !co_await net::write_planned(sink, plan);
  }

  auto [fill, created] = ctx_.registry.join_or_create(key);
  if (created) {
    ++ctx_.metrics.misses;
    asio::co_spawn(ctx_.upstream.strand(), run_fill(ctx_, fill), asio::detached);
  } else {
    ++ctx_.metrics.coalesced;
  }
  if (fill->readers() >= ctx_.config.cache.max_waiters) {
    auto plan = net::plan_text_response(bhttp::status::service_unavailable, version, keep_alive,
                                        head_only, "too many clients waiting for this file\n");
    co_return !co_await net::write_planned(sink, plan);
  }
  co_return co_await serve_fill(req, sink, keep_alive, std::move(fill), started);
}

asio::awaitable<bool> mirror_handler::serve_fill(const net::request& req, net::response_sink& sink,
                                                 bool keep_alive, std::shared_ptr<fill_state> fill,
                                                 std::chrono::steady_clock::time_point started) {
  const auto& msg = req.message;
  const unsigned version = msg.version();
  const bool head_only = msg.method() == bhttp::verb::head;
  fill->add_reader();
  struct reader_guard {
    fill_state& f;
    ~reader_guard() { f.remove_reader(); }
  } guard{*fill};

  const auto& up = ctx_.config.upstream;
  const auto head_deadline = started + up.connect_timeout + up.header_timeout +
                             std::chrono::seconds(1);
  auto v = fill->snapshot();
  while (v.state == fill_state::phase::waiting_for_head) {
    auto now = std::chrono::steady_clock::now();
    if (now >= head_deadline) {
      auto plan = net::plan_text_response(bhttp::status::gateway_timeout, version, keep_alive,
                                          head_only, "upstream did not answer in time\n");
      co_return !co_await net::write_planned(sink, plan);
    }
    co_await fill->wait_for_change(
        v, std::chrono::duration_cast<std::chrono::milliseconds>(head_deadline - now));
    v = fill->snapshot();
  }
  planned_response plan;
  if (v.state == fill_state::phase::failed && !v.cache_unwritable) {
    plan = v.timed_out
               ? net::plan_text_response(bhttp::status::gateway_timeout, version, keep_alive,
                                         head_only, "upstream did not answer in time\n")
               : net::plan_text_response(bhttp::status::bad_gateway, version, keep_alive, head_only,
                                         "upstream fetch failed\n");
    co_return !co_await net::write_planned(sink, plan);
  }
  if (v.status != 200) {
    plan = net::plan_text_response(static_cast<bhttp::status>(v.status), version, keep_alive,
                                   head_only, v.status == 404 ? "not found\n" : "");
    if (!v.location.empty()) {
      plan.head.set(bhttp::field::location, v.location);
    }
    co_return !co_await net::write_planned(sink, plan);
  }

  // Status 200, body streaming or complete: headers go out now, bytes as they arrive.
  const std::uint64_t total = v.length;
  std::uint64_t first = 0;
  std::uint64_t end = total;
  auto status = bhttp::status::ok;
  if (auto rh = msg[bhttp::field::range]; !rh.empty()) {
    auto d = http::resolve_range(rh, total);
    if (d.kind == http::range_kind::unsatisfiable) {
      plan = net::plan_text_response(bhttp::status::range_not_satisfiable, version, keep_alive,
                                     head_only, "range not satisfiable\n");
      plan.head.set(bhttp::field::content_range, "bytes */" + std::to_string(total));
      co_return !co_await net::write_planned(sink, plan);
    }
    if (d.kind == http::range_kind::partial) {
      status = bhttp::status::partial_content;
      first = d.first;
      end = d.last + 1;
    }
  }
  net::response_head head{status, version};
  head.keep_alive(keep_alive);
  head.set(bhttp::field::content_type, http::content_type_for(fill->key()));
  head.set(bhttp::field::cache_control, image_cache_control);
  head.set(bhttp::field::accept_ranges, "bytes");
  head.set(bhttp::field::content_length, std::to_string(end - first));
  if (status == bhttp::status::partial_content) {
    head.set(bhttp::field::content_range, fmt::format("bytes {}-{}/{}", first, end - 1, total));
  }
  head.set("X-Cache", "MISS");
  const bool has_body = !head_only && end > first;
  if (auto ec = co_await sink.write_head(head, has_body)) {
    co_return false;
  }
  ctx_.metrics.observe_ttfb(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!has_body) {
    co_return true;
  }
  std::uint64_t pos = first;
  while (pos < end) {
    v = fill->snapshot();
    if (v.state == fill_state::phase::failed) {
      if (v.cache_unwritable) {
        // The cache's disk failed, not the upstream: go on without it from where we are. (A
        // named argument: g++ 12 destroys a braced temporary passed to a coroutine twice.)
        pass_through_span rest{fill->key(), first, pos, end, total};
        co_return co_await pass_through(ctx_, sink, std::move(rest), fill->fd());
      }
      // Abort: the client sees a short body against Content-Length, never a complete wrong file.
      co_return false;
    }
    std::uint64_t avail = std::min(v.available, end);
    if (avail > pos) {
      if (auto ec = co_await sink.write_file(fill->fd(), cache_header_size + pos, avail - pos)) {
        co_return false;
      }
      pos = avail;
      continue;
    }
    co_await fill->wait_for_change(v, std::chrono::seconds(5));
  }
  co_return true;
}

}  // namespace lxcdn::mirror
