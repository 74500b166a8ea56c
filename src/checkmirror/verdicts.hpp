#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checkmirror/probe.hpp"
#include "checkmirror/site_url.hpp"
#include "mirror/image_index.hpp"

namespace lxcdn::checkmirror {

// One line of the report. Every judge_* function below is pure: observed facts in, verdict out.
struct check_result {
  std::string name;                // stable identifier, e.g. "image-https"
  bool passed = false;
  std::string detail;              // one line for a human
  bool required = true;            // false: informational, never fails the run
  std::optional<double> seconds;   // the measured figure, where the check measures time
};

// The image files a check fetches: `primary` (the smallest listed file, served over both schemes)
// and `miss` (another small file, likely not cached yet, for the time-to-headers figure).
struct probe_files {
  std::string primary;
  mirror::listed_file primary_file;
  std::string miss;  // equals primary when the index lists a single file
  mirror::listed_file miss_file;
};

// Sorts the index by (size, path): primary is the first; miss is drawn by `seed` from the next
// eight (so successive runs tend to probe files the mirror has not cached yet). Returns nullopt
// for an empty index. Pure.
std::optional<probe_files> choose_probe_files(const mirror::image_index& index, std::uint64_t seed);

// "origin-index": the origin's index could (not) be read; `files` counts its listed files.
check_result judge_origin_index(const endpoint& origin, const std::string& error,
                                std::size_t files);

// "http-reachable" / "https-reachable": any response head arrived on that scheme.
check_result judge_reachable(std::string name, const probe_result& r);

// "https-certificate": the handshake verified the chain to a trusted CA and the host name (or IP),
// and negotiated TLS 1.3 (which LXD requires).
check_result judge_certificate(const probe_result& r, const std::string& host);

// The Location a mirror must answer for `target` requested over `scheme`: the same scheme, the
// origin's host (and port unless 443), its base path, the same target; as the nginx config's
// `return 302 "$scheme://images.linuxcontainers.org$request_uri"`.
std::string expected_location(const endpoint& origin, std::string_view scheme,
                              std::string_view target);

// "redirect-http" / "redirect-https": 302 to expected_location() (or its https form).
check_result judge_redirect(std::string name, const probe_result& r, const endpoint& origin,
                            std::string_view scheme, std::string_view target);

// "image-http" / "image-https": 200, complete body, size and sha256 as the index lists them.
check_result judge_image(std::string name, const probe_result& r, const std::string& path,
                         const mirror::listed_file& listed);

// "fast-miss": the response head of a (likely) uncached file came within `limit`, and the body
// is right. The figure is reported in `seconds`.
check_result judge_fast_miss(const probe_result& r, const std::string& path,
                             const mirror::listed_file& listed, std::chrono::milliseconds limit);

// "status": /.lxcdn/status. An lxcdn mirror's JSON makes it required (its upstream must be
// reachable: the origin's health check reads the same field); anything else (nginx answers 302)
// is reported as not applicable and is not required.
check_result judge_status(const probe_result& r);

}  // namespace lxcdn::checkmirror
