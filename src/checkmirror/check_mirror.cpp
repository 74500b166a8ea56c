#include "checkmirror/check_mirror.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include <tuple>


#include "checkmirror/probe.hpp"
#include "core/config_error.hpp"
#include "mirror/image_index.hpp"

namespace lxcdn::checkmirror {

namespace asio = boost::asio;

namespace {

constexpr std::string_view index_target = "/streams/v1/index.json";
constexpr std::string_view status_target = "/.lxcdn/status";
constexpr std::uint64_t index_limit = 256u << 20;  // products files of a big server: tens of MiB

struct origin_index {
  mirror::image_index index;
  std::string error;
};

// Reads index.json and every products file it names from the origin, over verified TLS 1.3.
asio::awaitable<origin_index> load_origin_index(asio::any_io_executor ex, tls_contexts& tls,
                                                const endpoint& origin) {
  origin_index out;
  auto fetch = [&](std::string path) -> asio::awaitable<std::pair<std::string, std::string>> {
    probe_request req{origin, origin.base_path + encode_path(path), index_limit, true};
    auto r = co_await probe(ex, tls, std::move(req), true);
    if (!r.error.empty()) {
      co_return std::pair{std::string(), path + ": " + r.error};
    }
    if (r.status != 200 || !r.body_complete) {
      co_return std::pair{std::string(),
                          path + ": " + (r.status != 200 ? "HTTP " + std::to_string(r.status)
                                                          : r.body_error)};
    }
    co_return std::pair{std::move(r.body), std::string()};
  };
  auto [text, error] = co_await fetch(std::string(index_target));
  if (!error.empty()) {
    out.error = error;
    co_return out;
  }
  auto paths = mirror::products_paths(text, error);
  if (!error.empty()) {
    out.error = error;
    co_return out;
  }
  for (const auto& p : paths) {
    auto [products, perror] = co_await fetch("/" + p);
    if (!perror.empty()) {
      out.error = perror;
      co_return out;
    }
    if (!mirror::add_products(products, out.index, perror)) {
      out.error = p + ": " + perror;
      co_return out;
    }
  }
  co_return out;
}

asio::awaitable<report> run_checks(const check_options& options, const mirror_endpoints& mirror,
                                   const endpoint& origin, tls_contexts& tls) {
  auto ex = co_await asio::this_coro::executor;
  report rep{mirror.http.url(), mirror.https.url(), origin.url(), {}};
  auto& checks = rep.checks;

  auto index = co_await load_origin_index(ex, tls, origin);
  checks.push_back(judge_origin_index(origin, index.error, index.index.files.size()));

  const std::string redirect_target(index_target);
  probe_request http_req{mirror.http, mirror.http.base_path + redirect_target};
  auto http_redirect = co_await probe(ex, tls, std::move(http_req), false);
  probe_request https_req{mirror.https, mirror.https.base_path + redirect_target};
  auto https_redirect = co_await probe(ex, tls, std::move(https_req), false);
  checks.push_back(judge_reachable("http-reachable", http_redirect));
  checks.push_back(judge_reachable("https-reachable", https_redirect));
  checks.push_back(judge_certificate(https_redirect, mirror.https.host));
  checks.push_back(judge_redirect("redirect-http", http_redirect, origin, "http", redirect_target));
  checks.push_back(
      judge_redirect("redirect-https", https_redirect, origin, "https", redirect_target));

  auto files = index.error.empty() ? choose_probe_files(index.index, options.seed) : std::nullopt;
  if (files) {
    auto image_probe = [&](const endpoint& where, const std::string& path,
                           const mirror::listed_file& f) {
      probe_request req{where, where.base_path + encode_path(path), f.size};
      return probe(ex, tls, std::move(req), false);
    };
    auto miss = co_await image_probe(mirror.http, files->miss, files->miss_file);
    checks.push_back(judge_fast_miss(miss, files->miss, files->miss_file, options.miss_limit));
    auto http_image = co_await image_probe(mirror.http, files->primary, files->primary_file);
    checks.push_back(judge_image("image-http", http_image, files->primary, files->primary_file));
    auto https_image = co_await image_probe(mirror.https, files->primary, files->primary_file);
    checks.push_back(judge_image("image-https", https_image, files->primary, files->primary_file));
  } else {
    for (const char* name : {"fast-miss", "image-http", "image-https"}) {
      checks.push_back({name, false, "not run: no listed image file to test with (see origin-index)"});
    }
  }

  probe_request status_req{mirror.http, mirror.http.base_path + std::string(status_target),
                           1u << 20, true};
  auto status = co_await probe(ex, tls, std::move(status_req), false);
  checks.push_back(judge_status(status));
  co_return rep;
}

// The mirror's endpoints from the positional URL and the per-scheme overrides.
mirror_endpoints resolve_mirror(const check_options& o) {
  std::string error;
  if (o.mirror.empty() && (o.http_url.empty() || o.https_url.empty())) {
    throw config_error("name the mirror (URL), or give both --http-url and --https-url");
  }
  mirror_endpoints m;
  if (!o.mirror.empty()) {
    auto url = parse_site_url(o.mirror, error);
    if (!url) {
      throw config_error("mirror '" + o.mirror + "' " + error);
    }
    m = mirror_endpoints_for(*url, o.http_port, o.https_port);
  }
  for (auto [option, text, scheme, out] :
       {std::tuple{"--http-url", &o.http_url, "http", &m.http},
        std::tuple{"--https-url", &o.https_url, "https", &m.https}}) {
    if (text->empty()) {
      continue;
    }
    auto url = parse_site_url(*text, error);
    auto e = url ? endpoint_for_scheme(*url, scheme, error) : std::nullopt;
    if (!e) {
      throw config_error(std::string(option) + " '" + *text + "' " + error);
    }
    *out = std::move(*e);
  }
  return m;
}

}  // namespace

report run_check_mirror(const check_options& options) {
  const auto mirror = resolve_mirror(options);
  std::string error;
  auto origin_url = parse_site_url(options.origin, error);
  std::optional<endpoint> origin;
  if (origin_url) {
    origin = origin_endpoint_for(*origin_url, error);
  }
  if (!origin) {
    throw config_error("--origin '" + options.origin + "' " + error);
  }
  tls_contexts tls(options.ca_file);
  asio::io_context ioc;
  auto result = asio::co_spawn(ioc, run_checks(options, mirror, *origin, tls), asio::use_future);
  ioc.run();
  return result.get();
}

}  // namespace lxcdn::checkmirror
