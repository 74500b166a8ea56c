#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"
#include "net/file_response.hpp"
#include "net/request.hpp"
#include "net/response_sink.hpp"
#include "origin/origin_config.hpp"

namespace lxcdn::origin {

using net::open_file;

enum class open_error {
  none,
  not_found,  // no such file, or a path component is missing
  forbidden,  // not a regular file, or resolving it would leave the root (symlink pointing out)
  io,         // anything else (EMFILE, EIO, ...)
};

// Opens `relative` (a normalised target path without the leading '/') below the directory
// `root_fd`. Resolution never leaves the root: openat2(RESOLVE_BENEATH) refuses ".." and symlinks
// that point outside (absolute or relative), while symlinks inside the root are followed.
open_error open_below(int root_fd, std::string_view relative, open_file& out);

using static_response = net::planned_response;

// Decides the response for a GET/HEAD of the published tree rooted at `root_fd`: method check
// (405), target normalisation (400 for traversal and bad encodings, 404 for hidden names),
// file lookup (404/403), precompressed gzip for JSON, conditional requests (304), Range
// (206/416), and the caching headers by part of the tree. Pure apart from opening files.
static_response plan_static_response(int root_fd, const cache_control_config& cache,
                                     const net::http::request<net::http::empty_body>& req,
                                     bool keep_alive);

// True if the Accept-Encoding value admits gzip (a "gzip" or "*" coding with q != 0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace lxcdn::origin
