#include "simplestreams/catalog.hpp"

#include <stdexcept>
#include <unordered_map>

namespace lxcdn::simplestreams {

const root_format& format_of(root_kind kind) {
  for (const auto& f : root_formats) {
    if (f.kind == kind) {
      return f;
    }
  }
  throw std::logic_error("unknown root_kind");
}

std::optional<std::string> find_duplicate_fingerprint(const catalog& c) {
  struct origin {
    const build* in;
    root_kind kind;
  };
  auto describe = [](const origin& o) {
    return o.in->dir + " (" + std::string(format_of(o.kind).file_name) + ")";
  };
  std::unordered_map<std::string_view, origin> seen;  // fingerprint -> first producer
  for (const auto& [name, p] : c.products) {
    for (const auto& [serial, b] : p.versions) {
      for (const auto& r : b.roots) {
        origin here{&b, r.kind};
        auto [it, inserted] = seen.emplace(r.combined_sha256, here);
        if (!inserted) {
          return "duplicate image fingerprint " + r.combined_sha256 + " in " +
                 describe(it->second) + " and " + describe(here) +
                 ": clients would fail with \"More than one match\"; remove one of the builds";
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace lxcdn::simplestreams
