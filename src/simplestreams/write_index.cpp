#include "simplestreams/write_index.hpp"

namespace lxcdn::simplestreams {

index_summary write_index(const std::filesystem::path& root) {
  throw index_error("index generation not implemented yet for " + root.string());
}

}  // namespace lxcdn::simplestreams
