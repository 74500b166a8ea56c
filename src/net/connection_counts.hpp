#pragma once

#include <cstddef>

namespace lxcdn::net {

// A server's open connections now, for metrics (server::counts()).
struct connection_counts {
  std::size_t open = 0;
  std::size_t parked = 0;  // idle keep-alive ones holding no request loop (see server.cpp)
};

}  // namespace lxcdn::net
