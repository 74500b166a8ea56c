#pragma once
// Text from a request, made safe for a log line.

#include <string>
#include <string_view>

namespace lxcdn::http {

// `raw` with every byte outside printable ASCII (0x21-0x7E), and `"` and `\`, written as \xHH
// (as nginx's access log does). A request target may carry any byte Beast's parser lets through
// (obs-text 0x80-0xFF): copied raw it would put invalid UTF-8, or terminal escapes, into the log,
// and a space would shift the fields after it.
std::string log_escape(std::string_view raw);

}  // namespace lxcdn::http
