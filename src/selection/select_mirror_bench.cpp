// The per-request cost of choosing a mirror and building the redirect, the work the origin adds
// to every /images/ request (issue 4's goal: >= 1.2x nginx's redirects/s). Not a test:
//   ninja -C BUILD selection_bench && BUILD/src/selection/selection_bench
#include <benchmark/benchmark.h>

#include "selection/redirect_url.hpp"
#include "selection/select_mirror.hpp"

namespace lxcdn::selection {
namespace {

std::vector<mirror> mirrors_of(int n) {
  std::vector<mirror> w;
  for (int i = 0; i < n; ++i) {
    mirror m;
    m.name = "m" + std::to_string(i);
    m.country = "DE";
    m.continent = "EU";
    m.location = {40.0 + i % 20, -10.0 + 3 * (i % 20)};
    m.http_url = "http://" + m.name + ".mirror.example.org";
    m.https_url = "https://" + m.name + ".mirror.example.org";
    if (i % 5 == 0) {
      m.countries = {"JP"};
    }
    w.push_back(m);
  }
  return w;
}

void BM_SelectAndRedirect(benchmark::State& state) {
  const auto w = mirrors_of(static_cast<int>(state.range(0)));
  const std::vector<mirror_status> st(w.size());
  const selection_settings settings;
  selection_request req;
  req.client.country = "FR";
  req.client.continent = "EU";
  req.client.point = geoip::geo_point{48.8, 2.3};
  req.client.source = geoip::location_source::database;
  req.self = {"images.example.org", "images.example.org:8443"};
  int i = 0;
  for (auto _ : state) {
    req.random = (i++ % 1000) / 1000.0;
    auto s = select_mirror(req, w, st, settings);
    auto r =
        build_redirect(req.scheme, "/images/debian/12/amd64/default/20240101_05:24/rootfs.squashfs",
                       w[*s.chosen], req.self);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SelectAndRedirect)->Arg(5)->Arg(20)->Arg(100);

}  // namespace
}  // namespace lxcdn::selection

BENCHMARK_MAIN();
