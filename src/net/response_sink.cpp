#include "net/response_sink.hpp"

#include "net/file_response.hpp"

namespace lxcdn::net {

boost::asio::awaitable<boost::system::error_code> write_simple_response(
    response_sink& sink, unsigned version, bool keep_alive, bool head_only, http::status status,
    std::string body) {
  auto plan = plan_text_response(status, version, keep_alive, head_only, std::move(body));
  co_return co_await write_planned(sink, plan);
}

}  // namespace lxcdn::net
