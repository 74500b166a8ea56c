// libFuzzer target: the JSON documents we read from other machines. The same bytes go to
//   - mirror::products_paths (the origin's streams/v1/index.json),
//   - mirror::add_products (the origin's images.json: what a mirror and check-mirror trust for
//     sizes and hashes, and what publish verifies a generation against),
//   - checkmirror::judge_status (a third-party mirror's /.lxcdn/status).
// Checked: add_products adds nothing when it fails and only normalised request paths below the
// root when it succeeds, and reading the same document twice gives the same index. A key is a
// decoded path (an item "a%3fb" is keyed "/a?b", what the HTTP layer makes of a client's request
// for "/a%3fb"), so it is a fixed point of http::normalize_target only once percent-encoded the
// way the mirror's upstream client and check-mirror send it (checkmirror::encode_path); fed back
// raw, a '?', '#' or '%' in it would be read as a query, a fragment or an escape.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "checkmirror/probe.hpp"
#include "checkmirror/site_url.hpp"
#include "checkmirror/verdicts.hpp"
#include "http/target.hpp"
#include "mirror/image_index.hpp"

namespace {

using namespace lxcdn;

[[noreturn]] void broken(const char* what, std::string_view input) {
  std::fprintf(stderr, "simplestreams_json invariant broken: %s\n--- input\n%.*s\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string error;
  auto paths = mirror::products_paths(input, error);
  if (!error.empty() && !paths.empty()) {
    broken("products_paths returned paths with an error", input);
  }

  // A sentinel entry that must survive whatever the document holds, except a replacement of its
  // own key by a valid item.
  mirror::image_index index;
  const std::string sentinel = "/sentinel";
  index.files[sentinel] = {7, "s"};
  error.clear();
  bool ok = mirror::add_products(input, index, error);
  if (!ok) {
    if (error.empty() || index.files.size() != 1 || index.find(sentinel) == nullptr ||
        index.find(sentinel)->size != 7) {
      broken("a failed add_products changed the index or gave no reason", input);
    }
  } else {
    for (const auto& [key, file] : index.files) {
      // Encoding can make a long key longer than any target may be; that key is not checked.
      auto encoded = checkmirror::encode_path(key);
      if (encoded.size() > http::max_target_bytes) {
        continue;
      }
      auto again = http::normalize_target(encoded);
      if (again.error != http::target_error::none || again.path != key) {
        broken("an index key is not a normalised request path", input);
      }
    }
    mirror::image_index twice;
    std::string error2;
    twice.files[sentinel] = {7, "s"};
    if (!mirror::add_products(input, twice, error2) || twice.files.size() != index.files.size()) {
      broken("reading the same document twice differs", input);
    }
    for (const auto& [key, file] : index.files) {
      auto* f = twice.find(key);
      if (f == nullptr || f->size != file.size || f->sha256 != file.sha256) {
        broken("reading the same document twice differs", input);
      }
    }
  }

  checkmirror::probe_result status;
  status.url = "https://mirror.example.net/.lxcdn/status";
  status.status = 200;
  status.body_complete = true;
  status.body = std::string(input);
  auto verdict = checkmirror::judge_status(status);
  if (verdict.name != "status" || verdict.detail.empty()) {
    broken("judge_status gave no name or detail", input);
  }
  return 0;
}
