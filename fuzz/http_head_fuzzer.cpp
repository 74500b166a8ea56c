// libFuzzer target: the bytes a client sends on one connection, through the real session
// (net::serve, the template the server runs for plain TCP, with its stream_sink<plain_stream>:
// send(2) and sendfile(2)) and the origin's request handler (GeoIP redirects, the reserved
// /.lxcdn/ paths, static files). The connection is a Unix socket pair whose client end has sent
// the input and shut down its write side, so the session never waits on a timer: a hang is a
// finding (run with -timeout). The answers are checked:
//   - nothing outside the published root and no hidden file is ever sent (marker files);
//   - the output is a sequence of well-formed responses, each with one Content-Length (a 304
//     may have none);
//   - a 206 carries a Content-Range inside the file and as long as its body;
//   - nothing follows a 431 or a response that says Connection: close.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "geoip/geoip_store.hpp"
#include "net/session.hpp"
#include "origin/origin_config.hpp"
#include "origin/origin_handler.hpp"
#include "origin/origin_metrics.hpp"
#include "origin/routing_store.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace fs = std::filesystem;
using asio::ip::tcp;
using namespace lxcdn;

// Contents of files the origin must never send: one beside the root (reachable only by
// escaping it, e.g. through a symlink) and one hidden inside it.
constexpr std::string_view outside_marker = "MARKER-OUTSIDE-THE-ROOT";
constexpr std::string_view hidden_marker = "MARKER-HIDDEN-FILE";
constexpr std::uint64_t image_size = 600;

void write_file(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// A small published tree in a fresh directory under /dev/shm (tmpfs: no disk I/O per request).
fs::path make_tree() {
  char tmpl[] = "/dev/shm/lxcdn-fuzz-http-XXXXXX";
  char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  fs::path base(dir);
  fs::path root = base / "root";
  write_file(base / "outside" / "secret", outside_marker);
  write_file(root / ".hidden", hidden_marker);
  write_file(root / "images" / ".git" / "config", hidden_marker);
  write_file(root / "images" / "ubuntu" / "rootfs.squashfs", std::string(image_size, 'i'));
  write_file(root / "streams" / "v1" / "index.json", "{\"index\":{}}\n");
  write_file(root / "streams" / "v1" / "index.json.gz", "gzipped-index");
  write_file(root / "streams" / "v1" / "images.json", "{\"products\":{}}\n");
  fs::create_symlink("../outside/secret", root / "escape");
  fs::create_symlink(base / "outside", root / "images" / "abs");
  fs::create_symlink("ubuntu/rootfs.squashfs", root / "images" / "inside-link");
  fs::create_directories(root / "empty-dir");
  return base;
}

// Mirrors so that /images/ requests from the documentation networks are redirected; 127.0.0.1
// (the peer) is a trusted proxy, so X-Forwarded-For from the input is believed.
std::string origin_yaml(const fs::path& base) {
  return "root: \"" + (base / "root").string() + "\"\n" + R"(listen:
  - address: 127.0.0.1
    port: 8080
limits:
  max_header_bytes: 2048
geoip:
  trusted_proxies: [127.0.0.1]
  overrides:
    - network: 192.0.2.0/24
      country: DE
    - network: 198.51.100.0/24
      country: JP
    - network: 2001:db8::/32
      latitude: 45.5
      longitude: -73.6
mirrors:
  - name: de1
    http: http://de1.example.net
    https: https://de1.example.net
    country: DE
  - name: jp1
    http: http://jp1.example.net:8080/lxc
    https: https://jp1.example.net/lxc
    country: JP
selection:
  origin_names: [images.example.org]
)";
}

struct fixture {
  fs::path base = make_tree();
  origin::origin_config config = origin::parse_origin_config(origin_yaml(base), "fuzz.yaml");
  geoip::geoip_store geo{config.geoip};
  origin::origin_metrics metrics;
  origin::routing_store routes{config.mirrors, config.selection, metrics};
  origin::origin_handler handler{config, geo, routes, metrics};
  std::atomic<bool> stopping{false};
  bool park_when_idle = false;  // the server's loop, as with few connections on a thread
  net::session_env env{config.server.limits, handler, stopping, park_when_idle};
  asio::io_context ioc{1};
  tcp::endpoint peer{asio::ip::make_address("127.0.0.1"), 40000};

  ~fixture() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

fixture& the_fixture() {
  static fixture f;
  return f;
}

[[noreturn]] void broken(const char* what, std::string_view input, std::string_view output) {
  std::fprintf(stderr, "http_head invariant broken: %s\n--- input (%zu bytes)\n%.*s\n--- output\n%.*s\n",
               what, input.size(), static_cast<int>(input.size()), input.data(),
               static_cast<int>(output.size()), output.data());
  std::abort();
}

std::uint64_t number(std::string_view s, bool& ok) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  ok = ok && ec == std::errc() && p == s.data() + s.size() && !s.empty();
  return v;
}

// The value of header `name` (exact case, as serialize_head writes it) in `head`; `count` gets
// how many times it occurs.
std::string_view header(std::string_view head, std::string_view name, int& count) {
  std::string_view value;
  count = 0;
  for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    auto next = head.find("\r\n", pos + 2);
    auto line = head.substr(pos + 2, next == std::string_view::npos ? 0 : next - pos - 2);
    if (line.size() > name.size() + 2 && line.substr(0, name.size()) == name &&
        line.substr(name.size(), 2) == ": ") {
      value = line.substr(name.size() + 2);
      ++count;
    }
    pos = next;
  }
  return value;
}

void check_output(std::string_view input, std::string_view out) {
  for (auto marker : {outside_marker, hidden_marker}) {
    if (out.find(marker) != std::string_view::npos && input.find(marker) == std::string_view::npos) {
      broken("a file outside the root or a hidden file was sent", input, out);
    }
  }
  std::string_view rest = out;
  while (!rest.empty()) {
    auto end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos || rest.size() < 13 ||
        (rest.substr(0, 9) != "HTTP/1.1 " && rest.substr(0, 9) != "HTTP/1.0 ")) {
      broken("not a response head", input, out);
    }
    auto head = rest.substr(0, end + 2);
    rest.remove_prefix(end + 4);
    bool ok = true;
    auto status = number(head.substr(9, 3), ok);
    int n = 0;
    // RFC 9110 §8.6: a 304 may leave Content-Length out; everything else here must frame its
    // body with exactly one.
    std::uint64_t length = 0;
    auto length_text = header(head, "Content-Length", n);
    if (n > 0 || status != 304) {
      length = number(length_text, ok);
    }
    if (!ok || n > 1 || (n == 0 && status != 304) || status < 100 || status > 599) {
      broken("bad status or not exactly one Content-Length", input, out);
    }
    // A HEAD answer or a 304 has no body (the bodies served here never start like a response,
    // and a HEAD answer may be the last thing sent).
    bool has_body = status != 304 && length > 0 && !rest.empty() && rest.substr(0, 7) != "HTTP/1.";
    if (has_body) {
      if (rest.size() < length) {
        broken("body shorter than Content-Length", input, out);
      }
      rest.remove_prefix(length);
    }
    if (status == 206) {
      auto range = header(head, "Content-Range", n);
      auto dash = range.find('-');
      auto slash = range.find('/');
      if (n != 1 || range.substr(0, 6) != "bytes " || dash == std::string_view::npos ||
          slash == std::string_view::npos || slash < dash) {
        broken("206 without one Content-Range", input, out);
      }
      auto first = number(range.substr(6, dash - 6), ok);
      auto last = number(range.substr(dash + 1, slash - dash - 1), ok);
      auto size = number(range.substr(slash + 1), ok);
      if (!ok || first > last || last >= size || last - first + 1 != length) {
        broken("206 Content-Range outside the file or not the body's length", input, out);
      }
    }
    // A malformed head ends the connection (the session's 400s and 431 say Connection: close); a
    // 400 from the handler for a well-framed request (a bad target) may keep it.
    auto connection = header(head, "Connection", n);
    if ((status == 431 || (n == 1 && connection == "close")) && !rest.empty()) {
      broken("bytes after a response that closes the connection", input, out);
    }
  }
}

asio::awaitable<void> run_session(fixture& f, tcp::socket socket) {
  net::plain_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  bool busy = false;
  co_await net::serve(stream, buffer, f.peer, false, f.env, busy);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

asio::awaitable<void> read_all(tcp::socket& socket, std::string& out) {
  auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(out),
                                           asio::as_tuple(asio::use_awaitable));
  (void)ec;  // EOF (the session closed) ends the read
  (void)n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = the_fixture();
  // Written whole before the session starts; a Unix socket buffers far more than this.
  std::string_view input(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 65536));
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    std::perror("socketpair");
    std::abort();
  }
  for (std::size_t done = 0; done < input.size();) {
    auto n = ::write(fds[1], input.data() + done, input.size() - done);
    if (n <= 0) {
      std::perror("write");
      std::abort();
    }
    done += static_cast<std::size_t>(n);
  }
  ::shutdown(fds[1], SHUT_WR);
  tcp::socket server_end(f.ioc);
  tcp::socket client_end(f.ioc);
  server_end.assign(tcp::v4(), fds[0]);
  client_end.assign(tcp::v4(), fds[1]);
  std::string out;
  asio::co_spawn(f.ioc, run_session(f, std::move(server_end)), asio::detached);
  asio::co_spawn(f.ioc, read_all(client_end, out), asio::detached);
  f.ioc.restart();
  f.ioc.run();
  check_output(input, out);
  return 0;
}
