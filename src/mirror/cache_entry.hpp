#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lxcdn::mirror {

// What the mirror knows about one cached upstream answer. Stored as the fixed-size header of the
// entry's file, so data and metadata are committed by one rename (crash-safe, no journal).
struct cache_meta {
  std::string key;          // normalised request path, e.g. "/images/debian/12/.../rootfs.squashfs"
  unsigned status = 200;    // upstream status: 200, 301, 302 or 404
  std::uint64_t size = 0;   // body bytes following the header
  std::int64_t stored_at = 0;  // unix seconds when the fill completed (freshness starts here)
  std::string sha256;       // lowercase hex of the body as written (checked again on reads)
  std::string location;     // Location of a cached 301/302
};

// The body starts at this offset in an entry file.
inline constexpr std::size_t cache_header_size = 4096;

// Grammar (docs/mirror.md): "LXCDN-CACHE 1\n" then "name: value\n" lines for key, status, size,
// stored, sha256, location; then "\n" and NUL padding up to cache_header_size.
// Returns nullopt if the meta does not fit (a key longer than about 3 KiB) or holds a newline.
std::optional<std::string> encode_cache_header(const cache_meta& meta);

// Parses a header block (at least cache_header_size bytes, or fewer if the file is short).
// Returns nullopt for anything malformed: a corrupt or foreign file is never served. Pure.
std::optional<cache_meta> decode_cache_header(std::string_view block);

// The file name of an entry: lowercase hex sha256 of its key, so lookups need no index.
std::string cache_file_name(std::string_view key);

}  // namespace lxcdn::mirror
