#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lxcdn::mirror {

// What the origin's index says about one file.
struct listed_file {
  std::uint64_t size = 0;
  std::string sha256;
};

// Every item of the origin's products files, by request path ("/images/..."). Immutable.
struct image_index {
  std::unordered_map<std::string, listed_file> files;
  const listed_file* find(std::string_view path) const {
    auto it = files.find(std::string(path));
    return it == files.end() ? nullptr : &it->second;
  }
};

// The product files ("path" values of entries with datatype image-downloads) named by an
// index.json document. Returns an error text in `error` on malformed input. Pure.
std::vector<std::string> products_paths(std::string_view index_json, std::string& error);

// Adds every item (path, size, sha256) of a products:1.0 document to `out`, keyed "/" + path.
// Returns false with `error` set on malformed input (nothing is added then). Pure.
bool add_products(std::string_view products_json, image_index& out, std::string& error);

// The current index, replaced whole by the refresher. Internally synchronized.
class index_holder {
 public:
  std::shared_ptr<const image_index> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const image_index> fresh) {
    std::lock_guard lock(mutex_);
    current_ = std::move(fresh);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const image_index> current_;  // guarded by mutex_; null until first load
};

}  // namespace lxcdn::mirror
