#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

#include "mirror/fill.hpp"
#include "net/response_sink.hpp"

namespace lxcdn::mirror {

// What a reader still owes its client when the cache cannot be written: body bytes
// [pos, end) of the object `key` (total bytes `total`); the client asked for [first, end) and
// has [first, pos) already. The response head has been sent.
struct pass_through_span {
  std::string key;
  std::uint64_t first = 0;
  std::uint64_t pos = 0;
  std::uint64_t end = 0;
  std::uint64_t total = 0;
};

// Sends the rest of `span` straight from the upstream, one upstream request per reader (a Range
// request unless it is the whole object), nothing written to disk: the cache's disk is full,
// read-only or gone, and the mirror keeps serving. The same guarantee as a fill holds: when the
// client asked for the whole object and the index lists it, the mirror hashes the bytes already
// sent (read back from `prefix_fd`, the failed fill's temp file, body at cache_header_size; -1
// when nothing was written) and the rest, and withholds the last verify_holdback bytes until the
// sha256 matches, so a wrong body never reaches the client complete-looking. Otherwise the
// upstream's length (and Content-Range) must match. Returns true when the client got every
// byte; false means the transfer was aborted (the session closes the connection).
boost::asio::awaitable<bool> pass_through(fill_context ctx, net::response_sink& sink,
                                          pass_through_span span, int prefix_fd);

}  // namespace lxcdn::mirror
