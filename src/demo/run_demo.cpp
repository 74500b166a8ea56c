#include "demo/run_demo.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <iostream>
#include <system_error>

#include "core/unique_fd.hpp"
#include "demo/banner.hpp"
#include "demo/supervisor.hpp"

namespace lxcdn::demo {

std::uint16_t free_port(const std::string& host) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) {
      throw std::system_error(EINVAL, std::generic_category(), "demo host " + host);
    }
    len = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
      throw std::system_error(EINVAL, std::generic_category(), "demo host " + host);
    }
    len = sizeof *a4;
  }
  unique_fd s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot bind a port on " + host);
  }
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

int run_demo(demo_options o, const std::filesystem::path& program) {
  for (auto* port : {&o.https_port, &o.http_port, &o.mirror_a_port, &o.mirror_b_port}) {
    while (*port == 0) {
      auto p = free_port(o.host);
      if (p != o.https_port && p != o.http_port && p != o.mirror_a_port && p != o.mirror_b_port) {
        *port = p;
      }
    }
  }
  const auto prepared = prepare_demo(o);
  auto command = [&](const char* role, const std::filesystem::path& config) {
    return std::vector<std::string>{program.string(), role, "--config", config.string()};
  };
  std::vector<child_spec> children{
      {"origin", command("origin", prepared.origin_config), 2},
      {"mirror A", command("mirror", prepared.mirror_a_config), 1},
      {"mirror B", command("mirror", prepared.mirror_b_config), 1},
  };
  return supervise(children, [&](const auto&) {
    std::cout << render_banner(o, prepared, program, true) << std::flush;
  });
}

}  // namespace lxcdn::demo
