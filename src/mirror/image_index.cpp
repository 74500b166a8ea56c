// Boost.JSON is used header-only; this is the one translation unit of the binary that compiles it.
#include <boost/json/src.hpp>

#include "mirror/image_index.hpp"

#include "http/target.hpp"

namespace lxcdn::mirror {

namespace json = boost::json;

namespace {
const json::object* as_object(const json::value* v) { return v ? v->if_object() : nullptr; }
}  // namespace

std::vector<std::string> products_paths(std::string_view index_json, std::string& error) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto doc = json::parse(index_json, ec);
  if (ec || !doc.is_object()) {
    error = "index.json is not a JSON object";
    return out;
  }
  auto* index = as_object(doc.as_object().if_contains("index"));
  if (!index) {
    error = "index.json has no 'index' object";
    return out;
  }
  for (const auto& [name, entry] : *index) {
    auto* e = entry.if_object();
    if (!e) {
      continue;
    }
    auto* datatype = e->if_contains("datatype");
    auto* path = e->if_contains("path");
    if (datatype && datatype->is_string() && datatype->as_string() == "image-downloads" && path &&
        path->is_string()) {
      out.emplace_back(path->as_string());
    }
  }
  return out;
}

bool add_products(std::string_view products_json, image_index& out, std::string& error) {
  boost::system::error_code ec;
  auto doc = json::parse(products_json, ec);
  if (ec || !doc.is_object()) {
    error = "products file is not a JSON object";
    return false;
  }
  auto* products = as_object(doc.as_object().if_contains("products"));
  if (!products) {
    error = "products file has no 'products' object";
    return false;
  }
  image_index staged;
  for (const auto& [pname, product] : *products) {
    auto* versions = as_object(product.is_object() ? product.as_object().if_contains("versions")
                                                   : nullptr);
    if (!versions) {
      continue;
    }
    for (const auto& [vname, version] : *versions) {
      auto* items = as_object(version.is_object() ? version.as_object().if_contains("items")
                                                  : nullptr);
      if (!items) {
        continue;
      }
      for (const auto& [iname, item] : *items) {
        auto* it = item.if_object();
        if (!it) {
          continue;
        }
        auto* path = it->if_contains("path");
        auto* size = it->if_contains("size");
        auto* sha = it->if_contains("sha256");
        if (!path || !path->is_string() || !size || !size->is_int64() || size->as_int64() < 0 ||
            !sha || !sha->is_string()) {
          continue;
        }
        auto key = http::normalize_target("/" + std::string(path->as_string()));
        if (key.error != http::target_error::none) {
          continue;
        }
        staged.files[key.path] = {static_cast<std::uint64_t>(size->as_int64()),
                             std::string(sha->as_string())};
      }
    }
  }
  for (auto& [k, v] : staged.files) {
    out.files[k] = std::move(v);
  }
  return true;
}

}  // namespace lxcdn::mirror
