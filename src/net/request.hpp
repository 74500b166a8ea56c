#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

namespace lxcdn::net {

namespace http = boost::beast::http;

// One parsed request as handed to a request_handler. Bodies are never accepted (GET/HEAD only;
// a request with a body is answered 400 by the session before a handler sees it).
struct request {
  http::request<http::empty_body> message;
  boost::asio::ip::tcp::endpoint peer;  // the client's address and port
  bool tls = false;                     // arrived over TLS
};

}  // namespace lxcdn::net
