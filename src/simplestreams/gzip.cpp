#include "simplestreams/gzip.hpp"

#include <zlib.h>

#include <limits>
#include <stdexcept>

namespace lxcdn::simplestreams {

std::string gzip_compress(std::string_view data, int level) {
  if (data.size() > std::numeric_limits<uInt>::max()) {
    throw std::runtime_error("gzip: input over 4 GiB");
  }
  z_stream zs{};
  // windowBits 15 + 16 asks zlib for a gzip wrapper; without deflateSetHeader its header has
  // mtime 0 and no name.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("gzip: deflate failed");
  }
  return out;
}

}  // namespace lxcdn::simplestreams
