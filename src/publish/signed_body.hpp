#pragma once

#include <string>
#include <string_view>

namespace lxcdn::publish {

// What a clearsigned `.sjson` carries for a rendered JSON document (simplestreams-spec 5).

// `json` with a newline after every ',' outside strings: the same JSON value, in lines short
// enough for OpenPGP cleartext signatures (GnuPG refuses or mangles lines of 20,000 bytes or more,
// and the compact images.json is one line of megabytes). Pure.
std::string break_json_lines(std::string_view json);

// The body of a clearsigned document: for the index, its products paths point at the
// clearsigned products file ("images.json" -> "images.sjson", simplestreams'
// make_signed_content_paths); then break_json_lines. Pure.
std::string signed_body(std::string_view json, bool is_index);

}  // namespace lxcdn::publish
