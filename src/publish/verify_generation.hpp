#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "publish/generation_state.hpp"
#include "publish/signer.hpp"

namespace lxcdn::publish {

// Checks an assembled generation before any pointer names it, reading what a client reads:
// streams/v1/index.json under `generation` (the directory `.generation` will name, which the
// served root's streams/ and meta/ symlinks lead to), the products files it names (parsed by the
// mirror's own reader, not the renderer that wrote them), and every item path they list, which
// must be a regular file beneath the served `root` (the build pool, no symlinks) with the listed
// size and sha256. The sha256 of a file is taken from
// `state.files` when its (inode, size, mtime) match (it was hashed from these very bytes in this
// run or an earlier one), else the file is read. Also: the .sjson and .json.gpg of index and
// images and the legacy index verify with `sign`'s key and carry the documents' exact bodies. Fingerprint uniqueness is
// checked on the catalog before rendering (find_duplicate_fingerprint).
// Returns the problems found (empty = verified).
std::vector<std::string> verify_generation(const std::filesystem::path& root,
                                           const std::filesystem::path& generation,
                                           const generation_state& state, signer& sign);

}  // namespace lxcdn::publish
