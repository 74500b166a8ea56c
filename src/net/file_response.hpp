#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "core/unique_fd.hpp"
#include "net/request.hpp"
#include "net/response_sink.hpp"

namespace lxcdn::net {

// An open regular file and the facts about it that HTTP needs.
struct open_file {
  unique_fd fd;
  std::uint64_t size = 0;   // body bytes
  std::time_t mtime = 0;    // Last-Modified
  std::uint64_t base = 0;   // where the body starts in the file (a cache entry's header precedes it)
};

// A response decided before any byte is written: the head, and either a small in-memory body or
// a byte range of an open file.
struct planned_response {
  response_head head;
  std::string body;               // used when !file
  std::optional<open_file> file;  // file body: [offset, offset + length) of the body
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool head_only = false;         // HEAD, 304: no body bytes at all
};

// A small text response (errors, redirects): Content-Type text/plain, exact Content-Length.
planned_response plan_text_response(http::status status, unsigned version, bool keep_alive,
                                    bool head_only, std::string body);

// Completes `r` (whose head already carries status 200, Content-Type and Cache-Control) for the
// body `file` answering `req`: ETag (`etag`, or one derived from size and mtime when empty),
// Last-Modified, Accept-Ranges, then 304 on a matching If-None-Match/If-Modified-Since, 206 or
// 416 for a single Range (honouring If-Range), and the exact Content-Length.
void plan_file_body(planned_response& r, const http::request<http::empty_body>& req,
                    open_file file, std::string etag = {});

// Writes a planned response through `sink`. Returns the first write error; an empty code means
// the whole response went out.
boost::asio::awaitable<boost::system::error_code> write_planned(response_sink& sink,
                                                                planned_response& r);

}  // namespace lxcdn::net
