#include "simplestreams/write_index.hpp"

#include <system_error>

#include "core/atomic_file.hpp"
#include "simplestreams/catalog.hpp"
#include "simplestreams/gzip.hpp"
#include "simplestreams/render_json.hpp"
#include "simplestreams/scan_tree.hpp"

namespace lxcdn::simplestreams {

namespace {

// Writes NAME.json, then NAME.json.gz, each atomically: the .gz is never older than the .json
// beside it, which is the condition under which the origin serves it to gzip-accepting clients.
void write_json_and_gzip(const std::filesystem::path& json_path, const std::string& text) {
  write_file_atomically(json_path, text);
  write_file_atomically(std::filesystem::path(json_path.string() + ".gz"), gzip_compress(text));
}

}  // namespace

index_summary write_index(const std::filesystem::path& root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    throw index_error(root.string() + " is not a directory");
  }

  auto scan = scan_tree(root);
  if (auto duplicate = find_duplicate_fingerprint(scan.found)) {
    throw index_error(*duplicate);
  }

  index_summary summary;
  summary.products = scan.found.products.size();
  for (const auto& [name, p] : scan.found.products) {
    summary.versions += p.versions.size();
    for (const auto& [serial, b] : p.versions) {
      summary.images += b.roots.size();
    }
  }
  summary.skipped = std::move(scan.skipped);

  auto streams = root / "streams" / "v1";
  std::filesystem::create_directories(streams, ec);
  if (ec) {
    throw index_error("cannot create " + streams.string() + ": " + ec.message());
  }
  try {
    // images.json first: the index never lists a product before its products file has it.
    write_json_and_gzip(streams / "images.json", render_images_json(scan.found));
    write_json_and_gzip(streams / "index.json", render_index_json(scan.found));
  } catch (const std::system_error& e) {
    throw index_error(e.what());
  }
  return summary;
}

}  // namespace lxcdn::simplestreams
