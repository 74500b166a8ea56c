#include "origin/run_origin.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "core/config_error.hpp"
#include "net/server.hpp"
#include "origin/origin_handler.hpp"

namespace lxcdn::origin {

int run_origin(const origin_config& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.root, ec)) {
    throw config_error(fmt::format("{}: root: '{}' is not a directory", config.source.string(),
                                   config.root.string()));
  }
  origin_handler handler(config);
  net::server server(config.server, handler);
  for (const auto& l : server.bind()) {
    std::cout << "lxcdn origin listening on " << l.url << "\n";
  }
  std::cout << std::flush;
  spdlog::info("serving {}", config.root.string());
  server.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace lxcdn::origin
