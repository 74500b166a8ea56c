#pragma once

#include <string_view>

namespace lxcdn::http {

// The Content-Type for a file of the published tree, chosen by its name. Clients never check it
// (simplestreams-spec §2.5); browsers, curl and caches do. Unknown names are
// application/octet-stream.
std::string_view content_type_for(std::string_view path);

// True for JSON documents, the only ones served gzip-compressed when the client accepts it.
bool is_json(std::string_view path);

}  // namespace lxcdn::http
