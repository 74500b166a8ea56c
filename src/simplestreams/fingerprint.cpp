#include "simplestreams/fingerprint.hpp"

#include <fstream>
#include <future>
#include <vector>

#include "core/sha256.hpp"
#include "simplestreams/write_index.hpp"

namespace lxcdn::simplestreams {

namespace {

std::uint64_t size_before_reading(const std::filesystem::path& file) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    throw index_error("cannot stat " + file.string() + ": " + ec.message());
  }
  return size;
}

void check_size_unchanged(const std::filesystem::path& file, std::uint64_t before,
                          std::uint64_t read) {
  if (read != before) {
    throw index_error(file.string() + " changed while being indexed (" + std::to_string(before) +
                      " bytes before, " + std::to_string(read) + " read); run the index again");
  }
}

// Reads `file` once, feeding every byte to both `alone` and `combined`. Returns the byte count.
// The two states are updated on two threads, chunk by chunk: hashing, not reading, is the cost,
// so a root file costs one SHA-256 pass of wall time on a machine with two cores, not two.
std::uint64_t hash_into_both(const std::filesystem::path& file, sha256& alone, sha256& combined) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw index_error("cannot open " + file.string());
  }
  constexpr std::size_t chunk_size = 4 << 20;
  constexpr std::size_t parallel_from = 256 << 10;  // below this a thread costs more than it saves
  std::vector<char> buf(chunk_size);
  std::uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::string_view chunk(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (chunk.size() >= parallel_from) {
      auto other = std::async(std::launch::async, [&] { combined.update(chunk); });
      alone.update(chunk);
      other.get();
    } else {
      alone.update(chunk);
      combined.update(chunk);
    }
    total += chunk.size();
  }
  if (in.bad()) {
    throw index_error("cannot read " + file.string());
  }
  return total;
}

}  // namespace

build hash_build(const std::filesystem::path& root, const std::string& dir,
                 const build_selection& files) {
  build out;
  out.dir = dir;

  auto meta_path = root / dir / files.metadata;
  auto meta_size = size_before_reading(meta_path);
  sha256 meta_state;
  std::uint64_t meta_read = 0;
  if (auto ec = hash_file_into(meta_path, meta_state, &meta_read)) {
    throw index_error("cannot read " + meta_path.string() + ": " + ec.message());
  }
  check_size_unchanged(meta_path, meta_size, meta_read);
  out.metadata = {dir + "/" + files.metadata, meta_read, sha256(meta_state).hex_digest()};

  for (auto kind : files.roots) {
    const auto& format = format_of(kind);
    auto path = root / dir / format.file_name;
    auto size = size_before_reading(path);
    sha256 alone;
    sha256 combined(meta_state);
    auto read = hash_into_both(path, alone, combined);
    check_size_unchanged(path, size, read);
    out.roots.push_back({kind,
                         {dir + "/" + std::string(format.file_name), read, alone.hex_digest()},
                         combined.hex_digest()});
  }
  return out;
}

}  // namespace lxcdn::simplestreams
