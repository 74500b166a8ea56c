#include "origin/canary.hpp"

#include <fstream>
#include <sstream>

#include "mirror/image_index.hpp"

namespace lxcdn::origin {

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

health::canary pick_canary(const std::filesystem::path& root) {
  std::string error;
  auto paths = mirror::products_paths(slurp(root / "streams/v1/index.json"), error);
  mirror::image_index index;
  for (const auto& p : paths) {
    mirror::add_products(slurp(root / p), index, error);
  }
  health::canary best;
  for (const auto& [path, file] : index.files) {
    if (file.size > 0 && (best.path.empty() || file.size < best.size ||
                          (file.size == best.size && path < best.path))) {
      best = {path, file.sha256, file.size};
    }
  }
  return best;
}

}  // namespace lxcdn::origin
