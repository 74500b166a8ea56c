#include "net/response_sink.hpp"

namespace lxcdn::net {

boost::asio::awaitable<boost::system::error_code> write_simple_response(
    response_sink& sink, unsigned version, bool keep_alive, bool head_only, http::status status,
    std::string body) {
  response_head head{status, version};
  head.set(http::field::content_type, "text/plain; charset=utf-8");
  head.set(http::field::content_length, std::to_string(body.size()));
  head.keep_alive(keep_alive);
  if (head_only || body.empty()) {
    co_return co_await sink.write_head(head, false);
  }
  if (auto ec = co_await sink.write_head(head, true)) {
    co_return ec;
  }
  co_return co_await sink.write_body(boost::asio::buffer(body));
}

}  // namespace lxcdn::net
