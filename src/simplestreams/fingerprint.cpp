#include "simplestreams/fingerprint.hpp"

#include "core/sha256.hpp"
#include "core/sha256_pair.hpp"
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
    std::uint64_t read = 0;
    if (auto ec = hash_file_into_both(path, alone, combined, &read)) {
      throw index_error("cannot read " + path.string() + ": " + ec.message());
    }
    check_size_unchanged(path, size, read);
    out.roots.push_back({kind,
                         {dir + "/" + std::string(format.file_name), read, alone.hex_digest()},
                         combined.hex_digest()});
  }
  return out;
}

}  // namespace lxcdn::simplestreams
