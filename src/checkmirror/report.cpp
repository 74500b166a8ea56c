#include "checkmirror/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json.hpp>

#include <algorithm>

#ifndef LXCDN_VERSION
#define LXCDN_VERSION "0.0.0"
#endif

namespace lxcdn::checkmirror {

namespace json = boost::json;

bool report_passed(const report& r) {
  return !r.checks.empty() &&
         std::ranges::all_of(r.checks, [](const auto& c) { return c.passed || !c.required; });
}

std::string summary_line(const report& r) {
  std::size_t required = 0;
  std::vector<std::string> failed;
  for (const auto& c : r.checks) {
    if (c.required) {
      ++required;
      if (!c.passed) {
        failed.push_back(c.name);
      }
    }
  }
  if (report_passed(r)) {
    return fmt::format("summary: ready: all {} required checks passed", required);
  }
  return fmt::format("summary: NOT ready: {} of {} required checks failed: {}", failed.size(),
                     required, fmt::join(failed, ", "));
}

std::string render_text(const report& r) {
  std::string out = fmt::format("lxcdn check-mirror {}: mirror {} and {}, origin {}\n",
                                LXCDN_VERSION, r.mirror_http, r.mirror_https, r.origin);
  for (const auto& c : r.checks) {
    out += fmt::format("{} {}: {}\n", c.passed ? "PASS" : "FAIL", c.name, c.detail);
  }
  out += summary_line(r) + "\n";
  return out;
}

std::string render_json(const report& r) {
  json::array checks;
  for (const auto& c : r.checks) {
    json::object o{{"name", c.name},
                   {"passed", c.passed},
                   {"required", c.required},
                   {"detail", c.detail}};
    if (c.seconds) {
      o["seconds"] = *c.seconds;
    }
    checks.push_back(std::move(o));
  }
  json::object doc{{"version", LXCDN_VERSION},
                   {"mirror", json::object{{"http", r.mirror_http}, {"https", r.mirror_https}}},
                   {"origin", r.origin},
                   {"passed", report_passed(r)},
                   {"summary", summary_line(r)},
                   {"checks", std::move(checks)}};
  return json::serialize(doc) + "\n";
}

}  // namespace lxcdn::checkmirror
