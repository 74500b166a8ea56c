#include "demo/run_demo.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sys/time.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <system_error>
#include <thread>

#include "core/unique_fd.hpp"
#include "demo/banner.hpp"
#include "demo/supervisor.hpp"

namespace lxcdn::demo {

namespace {

// `host` (an IPv4 or IPv6 literal) and `port` as a socket address; returns its length. Throws
// std::system_error for a host that is not a literal.
socklen_t socket_address(const std::string& host, std::uint16_t port, sockaddr_storage& addr) {
  addr = {};
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) {
      throw std::system_error(EINVAL, std::generic_category(), "demo host " + host);
    }
    return sizeof *a6;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
    throw std::system_error(EINVAL, std::generic_category(), "demo host " + host);
  }
  return sizeof *a4;
}

}  // namespace

std::uint16_t free_port(const std::string& host) {
  sockaddr_storage addr{};
  socklen_t len = socket_address(host, 0, addr);
  unique_fd s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot bind a port on " + host);
  }
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

namespace {

// One HTTP/1.0 GET of `path` on host:port; the whole response ("" on any failure). Every socket
// operation has a 2 s deadline.
std::string fetch_once(const std::string& host, std::uint16_t port, const std::string& path) {
  sockaddr_storage addr{};
  socklen_t len = socket_address(host, port, addr);
  unique_fd s(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval deadline{2, 0};
  if (!s || ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline) != 0 ||
      ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline) != 0 ||
      ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return {};
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: demo\r\n\r\n";
  if (::send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return {};
  }
  std::string out;
  char buf[16384];
  for (;;) {
    auto n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n <= 0) {
      return n == 0 ? out : std::string();
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) {
    ++n;
  }
  return n;
}

// Waits (up to `timeout`) until the origin's status says both mirrors are up, so the printed
// commands are redirected as they say from the first try. Returns false on timeout.
bool wait_for_mirrors_up(const std::string& host, std::uint16_t port,
                         std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (count_of(fetch_once(host, port, "/.lxcdn/mirrors.json"), "\"health\":\"up\"") >= 2) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

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
    if (!wait_for_mirrors_up(o.host, o.http_port, std::chrono::seconds(60))) {
      std::cerr << "lxcdn demo: the origin does not see both mirrors up after 60 s; see "
                   "http://" << host_port(o.host, o.http_port) << "/.lxcdn/mirrors\n";
    }
    std::cout << render_banner(o, prepared, program, true) << std::flush;
  });
}

}  // namespace lxcdn::demo
