#pragma once

#include <string>
#include <string_view>

namespace lxcdn::simplestreams {

// `data` compressed into the gzip format (RFC 1952) at zlib's `level` (1 fastest .. 9 best, the
// default), with a header that carries no file name and mtime 0, so equal input gives equal bytes
// (for one zlib version and level). Throws std::runtime_error if zlib fails (out of memory) or
// `data` is 4 GiB or more.
std::string gzip_compress(std::string_view data, int level = 9);

}  // namespace lxcdn::simplestreams
