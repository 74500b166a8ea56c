#include "net/session.hpp"

#include <fmt/format.h>

namespace lxcdn::net {

bool is_protocol_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
  if (ep.address().is_v6()) {
    return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  }
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace lxcdn::net
