#include "demo/demo.hpp"

#include <stdexcept>

namespace lxcdn::demo {

std::filesystem::path prepare_demo(const demo_options& options) {
  throw std::runtime_error("demo not implemented yet: " + options.dir.string());
}

}  // namespace lxcdn::demo
