#include "publish/verify_generation.hpp"

#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <utility>
#include <sstream>

#include "core/sha256.hpp"
#include "mirror/image_index.hpp"
#include "publish/fs_ops.hpp"
#include "publish/hash_cache.hpp"
#include "publish/signed_body.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

namespace {

// The index as a client reads it, and every item it lists present with its size and sha256.
std::vector<std::string> check_items(const fs::path& root, const fs::path& generation,
                                     const generation_state& state) {
  std::vector<std::string> problems;
  auto index = read_whole_file(generation / "streams/v1/index.json");
  if (!index) {
    return {"streams/v1/index.json is missing"};
  }
  std::string error;
  auto paths = mirror::products_paths(*index, error);
  if (!error.empty()) {
    return {"streams/v1/index.json: " + error};
  }
  mirror::image_index listed;
  for (const auto& p : paths) {
    auto text = read_whole_file(generation / p);
    if (!text) {
      problems.push_back(p + " is named by the index but missing");
      continue;
    }
    if (!mirror::add_products(*text, listed, error)) {
      problems.push_back(p + ": " + error);
    }
  }
  for (const auto& [path, file] : listed.files) {
    auto rel = path.substr(1);  // "/images/..." -> "images/..."
    auto key = key_of(root / rel);
    if (!key) {
      problems.push_back(rel + " is listed but is not a regular file in the generation");
      continue;
    }
    if (key->size != file.size) {
      problems.push_back(rel + " is listed with " + std::to_string(file.size) + " bytes but has " +
                         std::to_string(key->size));
      continue;
    }
    std::string actual;
    if (auto it = state.files.find(rel); it != state.files.end() && it->second.key == *key) {
      actual = it->second.sha256;
    } else {
      actual = sha256_file(root / rel);
    }
    if (actual != file.sha256) {
      problems.push_back(rel + " is listed with sha256 " + file.sha256 + " but has " + actual);
    }
  }
  return problems;
}

}  // namespace

std::vector<std::string> verify_generation(const fs::path& root, const fs::path& generation,
                                           const generation_state& state, signer& sign) {
  // The items on a thread of their own while this one waits for gpg (a child process of GPGME's
  // context, which is not shared): the two halves take about as long at 9,000 builds.
  auto items = std::async(std::launch::async, check_items, std::cref(root), std::cref(generation),
                          std::cref(state));
  std::vector<std::string> problems;
  for (const char* doc : {"index", "images"}) {
    auto base = generation / "streams/v1" / doc;
    auto json = read_whole_file(base.string() + ".json");
    auto sjson = read_whole_file(base.string() + ".sjson");
    auto gpg = read_whole_file(base.string() + ".json.gpg");
    if (!json || !sjson || !gpg) {
      problems.push_back(std::string("streams/v1/") + doc + ": .json, .sjson or .json.gpg missing");
      continue;
    }
    if (auto bad = sign.verify_detached(*gpg, *json)) {
      problems.push_back(std::string("streams/v1/") + doc + ".json.gpg: " + *bad);
    }
    // index.sjson names images.sjson, and both are broken into lines (signed_body.hpp).
    auto body = signed_body(*json, std::string_view(doc) == "index");
    if (auto bad = sign.verify_clearsigned(*sjson, body)) {
      problems.push_back(std::string("streams/v1/") + doc + ".sjson: " + *bad);
    }
  }
  // The legacy LXC index: LXC's download template checks no hash and no signature, so every
  // build it names must hold meta.tar.xz and rootfs.tar.xz exactly as SHA256SUMS records them.
  std::optional<std::pair<std::string, std::string>> checked;  // index-system, if verified
  for (const char* name : {"index-system", "index-user"}) {
    auto rel = std::string("meta/1.0/") + name;
    auto text = read_whole_file(generation / rel);
    auto asc = read_whole_file(generation / (rel + ".asc"));
    if (!text || !asc) {
      problems.push_back(rel + " or its .asc is missing");
      continue;
    }
    if (checked && checked->first == *text && checked->second == *asc) {
      continue;  // index-user is index-system's copy: the same bytes, already checked
    }
    auto problems_before = problems.size();
    if (auto bad = sign.verify_detached(*asc, *text)) {
      problems.push_back(rel + ".asc: " + *bad);
    }
    std::size_t start = 0;
    while (start < text->size()) {
      auto nl = text->find('\n', start);
      auto line = text->substr(start, nl - start);
      start = nl == std::string::npos ? text->size() : nl + 1;
      auto dir = line.substr(line.rfind(';') + 1);  // "/images/.../<serial>/"
      auto build = dir.substr(1, dir.size() - 2);
      auto sums = read_whole_file(root / build / "SHA256SUMS").value_or("");
      for (const char* file : {"meta.tar.xz", "rootfs.tar.xz"}) {
        auto file_rel = build + "/" + file;
        auto key = key_of(root / file_rel);
        if (!key) {
          problems.push_back(rel + " names " + file_rel + ", which is missing");
          continue;
        }
        auto it = state.files.find(file_rel);
        auto actual = it != state.files.end() && it->second.key == *key
                          ? it->second.sha256
                          : sha256_file(root / file_rel);
        if (sums.find(actual + "  " + file + "\n") == std::string::npos) {
          problems.push_back(file_rel + " does not match its SHA256SUMS line");
        }
      }
    }
    if (problems.size() == problems_before) {
      checked.emplace(std::move(*text), std::move(*asc));
    }
  }
  auto item_problems = items.get();
  problems.insert(problems.begin(), item_problems.begin(), item_problems.end());
  return problems;
}

}  // namespace lxcdn::publish
