#include "publish/legacy_index.hpp"

#include <map>

namespace lxcdn::publish {

std::string render_legacy_index(const std::vector<build_id>& builds) {
  std::map<std::string, const build_id*> newest;  // "os;release;arch;variant" -> build
  for (const auto& b : builds) {
    auto key = b.os + ";" + b.release + ";" + b.arch + ";" + b.variant;
    auto [it, inserted] = newest.emplace(key, &b);
    if (!inserted && it->second->serial < b.serial) {
      it->second = &b;
    }
  }
  std::string out;
  for (const auto& [key, b] : newest) {
    out += key + ";" + b->serial + ";/images/" + b->path() + "/\n";
  }
  return out;
}

}  // namespace lxcdn::publish
