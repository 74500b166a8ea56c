#pragma once

#include <stdexcept>
#include <string>

namespace lxcdn {

// A configuration or start-up error that the process reports and then refuses to start.
// The message is complete and meant for the operator: "FILE:LINE: KEY: what is wrong".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace lxcdn
