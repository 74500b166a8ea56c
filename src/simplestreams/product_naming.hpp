#pragma once

#include <string>
#include <string_view>

namespace lxcdn::simplestreams {

// How a product is named in images.json, from its directory names under ROOT/images/. The names
// are assumed to have passed name_problem() (build_rules.hpp), so they hold no ':', ',' or '/'.

// "os:release:arch:variant", lxc-ci's product key (simplestreams-spec 1.3).
std::string product_name(std::string_view os, std::string_view release, std::string_view arch,
                         std::string_view variant);

// The product's `aliases` field: "os/release/variant", followed by ",os/release" for the
// "default" variant. Comma-separated with no spaces (clients do not trim; spec 1.3). Two products
// of one arch never share an alias: the first form has three segments and is unique per
// (os, release, variant); the second has two and only the default variant has it.
std::string product_aliases(std::string_view os, std::string_view release,
                            std::string_view variant);

// The product's `os` field: the directory name title-cased the way lxc-ci's Python
// `distro.title()` does it for ASCII: a letter is upper-cased when it follows a non-letter (or
// starts the string) and lower-cased otherwise ("debian" -> "Debian", "centos-stream" ->
// "Centos-Stream").
std::string os_title(std::string_view os);

}  // namespace lxcdn::simplestreams
