#pragma once

#include <filesystem>
#include <string>

#include "simplestreams/build_rules.hpp"
#include "simplestreams/catalog.hpp"

namespace lxcdn::simplestreams {

// Hashes the selected files of one build directory and returns the build as the catalog lists it.
// `root` is ROOT, `dir` the build directory relative to ROOT ('/'-separated), `files` a selection
// without skip reason. The metadata is read once; its running sha256 state is then copied for each
// root file, and each root file is read once, feeding both its own sha256 and the copy, which
// gives the combined fingerprint sha256(metadata ‖ root) (simplestreams-spec 1.4).
// Throws index_error naming the file if one cannot be read or changes size while being read.
build hash_build(const std::filesystem::path& root, const std::string& dir,
                 const build_selection& files);

}  // namespace lxcdn::simplestreams
