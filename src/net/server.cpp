#include "net/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <list>
#include <optional>
#include <thread>

#include "core/config_error.hpp"
#include "net/session.hpp"
#include "net/stream_sink.hpp"
#include "net/tls_stream.hpp"

namespace lxcdn::net {

using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

std::string_view cached_http_date() {
  thread_local std::time_t last = 0;
  thread_local char text[40];
  std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return text;
}

std::string serialize_head(const response_head& head) {
  std::string out;
  out.reserve(512);
  out += head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(head.result_int());
  out += ' ';
  out += head.reason();
  out += "\r\n";
  for (const auto& f : head) {
    if (f.name() == http::field::server || f.name() == http::field::date) {
      continue;  // ours, below
    }
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  // Appended here rather than set in the fields: no allocation per response for them.
  out += "Server: lxcdn\r\nDate: ";
  out += cached_http_date();
  out += "\r\n\r\n";
  return out;
}

namespace {

// One open connection, as seen by shutdown and by its worker's sweep. Confined to its worker.
//
// An idle keep-alive connection is *parked*: once it has been idle through two sweeps
// (park_after apart), its request loop gives up the read, and what is left of the connection is
// this slot holding the socket (and, for TLS, the SSL object), with one wait for readability: no
// coroutine frame, no buffer, no stream object (about 1.2 KiB of heap for plain HTTP, against
// about 9 KiB in the loop). The first byte of the next request starts a new request loop on the
// same slot. A TLS connection is parked only while OpenSSL holds no input of its own.
struct connection_slot {
  tcp::socket* socket = nullptr;  // where the socket is now (stream or `parked`); null once ended
  bool busy = false;              // between reading a request and finishing its response
  bool parkable = false;          // inside its request loop (after the TLS handshake)
  bool idle_seen = false;         // parkable and not busy at the last sweep
  bool park_requested = false;    // the sweep cancelled the loop's keep-alive read
  std::optional<tcp::socket> parked;  // the socket while parked
  ssl_ptr parked_tls;                 // a parked TLS connection's state
  std::chrono::steady_clock::time_point park_deadline;  // parked: idle_timeout ends here
  tcp::endpoint peer;
};

using slot_list = std::list<connection_slot>;

// An I/O thread: its io_context, its connections, and the timer that sweeps them.
struct worker {
  worker() : sweep(ioc) {}
  asio::io_context ioc{1};
  slot_list slots;  // touched only on this worker's thread
  // slots.size() > eager_park_above: idle connections park as soon as a response is out.
  bool park_when_idle = false;
  asio::steady_timer sweep;
  std::size_t parks_since_trim = 0;  // see arm_sweep
};

}  // namespace

struct server::impl {
  impl(server_config c, request_handler* h)
      : config(std::move(c)), handler(h), workers(make_workers(config.threads)),
        ioc(workers.front()->ioc), control(asio::make_strand(ioc)), signals(ioc),
        grace_timer(control) {
    bool any_tls = false;
    for (auto& l : config.listeners) {
      any_tls = any_tls || l.tls;
    }
    if (any_tls) {
      tls = std::make_unique<tls_context_store>(config.tls);
    }
  }

  // One io_context per I/O thread; `threads: 0` means one per core. Each connection lives on one
  // of them for its whole life (single-threaded: no strand, no lock on its path); the acceptors,
  // signals and the roles' shared services (context()) use the first.
  static std::vector<std::unique_ptr<worker>> make_workers(unsigned threads) {
    unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<worker>> out;
    for (unsigned i = 0; i < n; ++i) {
      out.push_back(std::make_unique<worker>());
    }
    return out;
  }

  server_config config;
  request_handler* handler;  // set before run()
  std::vector<std::function<void()>> stop_callbacks;
  std::vector<std::unique_ptr<worker>> workers;
  asio::io_context& ioc;  // workers.front()->ioc
  std::atomic<std::size_t> next_worker{0};  // round-robin assignment of new connections
  std::unique_ptr<tls_context_store> tls;
  std::vector<std::pair<tcp::acceptor, bool>> acceptors;  // (acceptor, is TLS port)
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> parked_connections{0};
  asio::strand<asio::io_context::executor_type> control;  // orders stop steps
  asio::signal_set signals;
  asio::steady_timer grace_timer;  // on `control`

  const limits_config& limits() const { return config.limits; }

  // How long a keep-alive connection stays idle in its request loop before it is parked (between
  // one and two of these): an eighth of idle_timeout, within [100 ms, 2 s].
  std::chrono::milliseconds park_after() const {
    return std::clamp(limits().idle_timeout / 8, std::chrono::milliseconds(100),
                      std::chrono::milliseconds(2000));
  }

  static constexpr std::size_t park_trim_batch = 256;

  // With more connections than this on a thread, a keep-alive connection parks right after a
  // response when its next request is not already there, instead of idling in its loop for one
  // or two sweeps first. Then only connections with a request in progress hold a loop's memory
  // (frames, buffer, parser: about 9 KiB), so thousands of mostly idle clients cost a slot each
  // (about 0.8 KiB of heap) and leave behind no peak of freed loops, which the heap cannot give
  // back while parked connections sit between them (bench/connections: 2,000 idle connections
  // took 6.1 KiB resident each with sweep parking alone, 1.0 KiB parking eagerly). Below it, a
  // busy keep-alive connection keeps its loop between requests: cheaper per request than a new
  // loop each time, and few loops cannot fragment much.
  static constexpr std::size_t eager_park_above = 64;

  static void note_slot_count(worker& w) { w.park_when_idle = w.slots.size() > eager_park_above; }

  // Runs `f(slot)` on each live connection, on its own worker's thread.
  template <class F>
  void for_each_slot(F f) {
    for (auto& w : workers) {
      asio::post(w->ioc, [&w = *w, f] {
        for (auto& s : w.slots) {
          f(s);
        }
      });
    }
  }

  static void close_socket(connection_slot& s) {
    if (s.socket) {
      error_code ec;
      s.socket->shutdown(tcp::socket::shutdown_both, ec);
      s.socket->close(ec);
    }
  }

  void begin_stop() {
    if (stopping.exchange(true)) {
      return;
    }
    spdlog::info("shutting down: no new connections; {} open, grace {} ms", connections.load(),
                 limits().shutdown_grace.count());
    asio::post(control, [this] {
      for (auto& [acc, is_tls] : acceptors) {
        asio::post(acc.get_executor(), [&acc = acc] {
          error_code ec;
          acc.close(ec);
        });
      }
      signals.cancel();
      for (auto& w : workers) {
        asio::post(w->ioc, [&w = *w] { w.sweep.cancel(); });
      }
      for (auto& cb : stop_callbacks) {
        cb();
      }
      // Idle keep-alive connections go now; busy ones finish their response first.
      for_each_slot([](connection_slot& s) {
        if (!s.busy) {
          close_socket(s);
        }
      });
      grace_timer.expires_after(limits().shutdown_grace);
      grace_timer.async_wait([this](error_code ec) {
        if (!ec) {
          spdlog::warn("shutdown grace period over: closing {} connections", connections.load());
          for_each_slot([](connection_slot& s) { close_socket(s); });
        }
      });
      if (connections.load() == 0) {
        grace_timer.cancel();
      }
    });
  }

  // Called when a connection ends: the last one to end during shutdown releases the grace timer,
  // which lets io_context::run() return.
  void maybe_finish_stop() {
    if (stopping && connections.load() == 0) {
      asio::post(control, [this] { grace_timer.cancel(); });
    }
  }

  // SIGTERM/SIGINT: graceful stop. SIGHUP: reload the certificate, keep waiting for signals.
  void on_signal(error_code ec, int sig) {
    if (ec) {
      return;
    }
    if (sig != SIGHUP) {
      begin_stop();
      return;
    }
    if (!tls) {
      spdlog::info("SIGHUP: nothing to reload");
    } else if (auto err = tls->reload(); err.empty()) {
      spdlog::info("SIGHUP: TLS certificate reloaded");
    } else {
      spdlog::warn("SIGHUP: TLS reload failed, keeping the old certificate: {}", err);
    }
    signals.async_wait([this](error_code e, int sg) { on_signal(e, sg); });
  }

  awaitable<void> accept_loop(tcp::acceptor& acceptor, bool tls_port) {
    for (;;) {
      auto& w = *workers[next_worker++ % workers.size()];
      auto [ec, socket] = co_await acceptor.async_accept(w.ioc, as_tuple);
      if (stopping || ec == asio::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        // EMFILE and friends: log, back off briefly, keep accepting.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(as_tuple);
        continue;
      }
      if (connections.load() >= limits().max_connections) {
        error_code ignored;
        socket.close(ignored);  // answer at once (RST/FIN) rather than let the client hang
        continue;
      }
      ++connections;
      spawn_connection(w, std::move(socket), tls_port, {}, false, nullptr);
    }
  }

  // Starts the request loop of a new connection (`it` unused: the loop adds the slot, on w's
  // thread), or resumes a parked one in its slot `it` (with its TLS state, if it has one).
  void spawn_connection(worker& w, tcp::socket socket, bool tls_port, slot_list::iterator it,
                        bool resumed, ssl_ptr tls_state) {
    asio::co_spawn(w.ioc,
                   run_connection(w, std::move(socket), tls_port, it, resumed,
                                  std::move(tls_state)),
                   [this](std::exception_ptr e, bool parked) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         spdlog::error("connection ended by unexpected error: {}", x.what());
                       }
                     }
                     if (!parked) {
                       --connections;
                       maybe_finish_stop();
                     }
                   });
  }

  // The connection's loop gave up its keep-alive read (park_requested): keep only the socket
  // and, for TLS, the SSL object.
  void park(worker& w, slot_list::iterator it, tcp::socket socket, ssl_ptr tls_state,
            bool eager) {
    auto& slot = *it;
    slot.park_requested = slot.idle_seen = slot.parkable = false;
    slot.parked.emplace(std::move(socket));
    slot.parked_tls = std::move(tls_state);
    slot.socket = &*slot.parked;
    ++parked_connections;
    ++w.parks_since_trim;
    // Parked by the sweep, it has been idle for one to two park_after already.
    slot.park_deadline = std::chrono::steady_clock::now() + limits().idle_timeout -
                         (eager ? std::chrono::milliseconds(0) : park_after());
    slot.parked->async_wait(tcp::socket::wait_read,
                            [this, &w, it](error_code ec) { unpark(w, it, ec); });
  }

  // A parked connection is readable (the next request, or the peer's FIN), or its socket was
  // closed: by the sweep at its idle deadline, or by a shutdown.
  void unpark(worker& w, slot_list::iterator it, error_code ec) {
    auto& slot = *it;
    --parked_connections;
    if (ec || stopping || !slot.parked->is_open()) {
      error_code ignored;
      slot.parked->close(ignored);
      w.slots.erase(it);  // frees a TLS connection's SSL object with it
      note_slot_count(w);
      --connections;
      maybe_finish_stop();
      return;
    }
    tcp::socket socket = std::move(*slot.parked);
    slot.parked.reset();
    ssl_ptr tls_state = std::move(slot.parked_tls);
    spawn_connection(w, std::move(socket), false, it, true, std::move(tls_state));
  }

  // Whether a request loop that ended with `end` should park its connection. It ended idle on
  // its own (eagerly, see eager_park_above), or its keep-alive read failed while the sweep had
  // asked for a park: serve() returns with busy == false only from its keep-alive wait (or at a
  // stop), so that read was (almost surely) cancelled by the sweep. Should it have been a real
  // error or the peer's FIN instead, the parked socket is readable at once and the next loop
  // meets it again.
  bool should_park(const connection_slot& slot, session_end end, const tcp::socket& socket,
                   const beast::flat_buffer& buffer) const {
    const bool asked = end == session_end::idle ||
                       (end == session_end::broken && slot.park_requested);
    return asked && !slot.busy && !stopping && socket.is_open() && buffer.size() == 0;
  }

  // Every park_after: closes parked connections past their idle deadline, and asks those idle in
  // their request loop at two sweeps in a row to park (their keep-alive read is cancelled; a
  // request that arrives first simply wins, and the loop goes on).
  void arm_sweep(worker& w) {
    w.sweep.expires_after(park_after());
    w.sweep.async_wait([this, &w](error_code ec) {
      if (ec || stopping) {
        return;
      }
      // What parked connections gave back sits in malloc's free lists, still resident. After a
      // wave of parks (many connections gone idle, as after a burst), hand the free pages back
      // to the kernel: malloc_trim walks the heaps once (milliseconds for a large one), at most
      // once per sweep.
      if (w.parks_since_trim >= park_trim_batch) {
        w.parks_since_trim = 0;
        ::malloc_trim(0);
      }
      const auto now = std::chrono::steady_clock::now();
      for (auto& s : w.slots) {
        error_code ignored;
        if (s.parked) {
          if (now >= s.park_deadline) {
            s.parked->close(ignored);  // its wait ends with operation_aborted: unpark() cleans up
          }
        } else if (!s.parkable || s.busy || !s.socket) {
          s.idle_seen = false;
        } else if (!s.idle_seen) {
          s.idle_seen = true;
        } else {
          s.idle_seen = false;
          s.park_requested = true;
          s.socket->cancel(ignored);
        }
      }
      arm_sweep(w);
    });
  }

  // The first byte of a connection on the TLS port, left in the socket. 0x16 begins a TLS
  // handshake record; anything else is plain HTTP (LXD tries http://host:port first when the
  // remote URL has a port). eof when the peer closes first (Go's pre-dial does: normal),
  // timed_out past the header deadline.
  awaitable<std::tuple<error_code, unsigned char>> peek_first_byte(tcp::socket& socket) {
    using namespace asio::experimental::awaitable_operators;
    unsigned char byte = 0;
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(limits().header_timeout);
    auto result = co_await (socket.async_receive(asio::buffer(&byte, 1),
                                                 tcp::socket::message_peek, as_tuple) ||
                            timer.async_wait(as_tuple));
    if (result.index() == 1) {
      co_return std::tuple{error_code(asio::error::timed_out), byte};
    }
    auto [ec, n] = std::get<0>(result);
    if (!ec && n == 0) {
      ec = asio::error::eof;
    }
    co_return std::tuple{ec, byte};
  }

  // The request loop of a TLS connection whose handshake is done, parked when the sweep asks and
  // OpenSSL holds no input. Returns true when parked. A clean end sends our close_notify.
  awaitable<bool> serve_tls(worker& w, slot_list::iterator it, tls_stream& stream,
                            beast::flat_buffer& buffer, const session_env& env) {
    connection_slot& slot = *it;
    slot.socket = &stream.socket();
    slot.parkable = true;
    const session_end end = co_await serve(stream, buffer, slot.peer, true, env, slot.busy);
    slot.parkable = false;
    if (should_park(slot, end, stream.socket(), buffer) && !stream.has_pending()) {
      auto parts = stream.release();
      park(w, it, std::move(parts.first), std::move(parts.second), end == session_end::idle);
      co_return true;
    }
    slot.park_requested = false;
    if (end == session_end::clean) {
      stream.expires_after(std::chrono::seconds(2));
      co_await stream.shutdown();
    }
    co_return false;
  }

  // Returns true when the connection was parked (it lives on in its slot), false when it ended.
  // `tls_state` is set when a parked TLS connection resumes.
  awaitable<bool> run_connection(worker& w, tcp::socket socket, bool tls_port,
                                 slot_list::iterator it, bool resumed, ssl_ptr tls_state) {
    if (!resumed) {
      w.slots.emplace_back();
      it = std::prev(w.slots.end());
      note_slot_count(w);
    }
    connection_slot& slot = *it;
    error_code ec;
    if (!resumed) {
      slot.peer = socket.remote_endpoint(ec);
      socket.set_option(tcp::no_delay(true), ec);
    }
    const tcp::endpoint peer = slot.peer;
    bool parked = false;
    struct unregister {
      worker& w;
      slot_list::iterator it;
      const bool& parked;
      ~unregister() {
        if (!parked) {
          it->socket = nullptr;
          w.slots.erase(it);
          note_slot_count(w);
        }
      }
    } guard{w, it, parked};
    const session_env env{limits(), *handler, stopping, w.park_when_idle};
    try {
      slot.socket = &socket;
      beast::flat_buffer buffer;
      if (tls_state) {
        tls_stream stream(std::move(socket), std::move(tls_state));
        parked = co_await serve_tls(w, it, stream, buffer, env);
        co_return parked;
      }
      if (tls_port) {
        auto [pec, first] = co_await peek_first_byte(socket);
        if (pec) {
          co_return false;
        }
        if (first == 0x16) {
          auto ctx = tls->current();  // the context of this connection, whatever reloads follow
          ssl_ptr ssl(SSL_new(ctx->native_handle()));
          if (!ssl) {
            spdlog::error("{}: cannot start TLS: SSL_new failed", endpoint_text(peer));
            co_return false;
          }
          tls_stream stream(std::move(socket), std::move(ssl));
          slot.socket = &stream.socket();
          stream.expires_after(limits().tls_handshake_timeout);
          if (auto hec = co_await stream.handshake()) {
            spdlog::debug("{}: TLS handshake failed: {}", endpoint_text(peer), hec.message());
            co_return false;
          }
          parked = co_await serve_tls(w, it, stream, buffer, env);
          co_return parked;
        }
      }
      beast::tcp_stream stream(std::move(socket));
      slot.socket = &stream.socket();
      slot.parkable = true;
      const session_end end = co_await serve(stream, buffer, peer, false, env, slot.busy);
      slot.parkable = false;
      if (should_park(slot, end, stream.socket(), buffer)) {
        parked = true;
        park(w, it, stream.release_socket(), nullptr, end == session_end::idle);
        co_return true;
      }
      slot.park_requested = false;
      if (end == session_end::clean) {
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      }
    } catch (const std::exception& e) {
      spdlog::error("{}: connection ended by unexpected error: {}", endpoint_text(peer), e.what());
    }
    co_return false;
  }
};

server::server(server_config config, request_handler& handler)
    : impl_(std::make_unique<impl>(std::move(config), &handler)) {}

server::server(server_config config) : impl_(std::make_unique<impl>(std::move(config), nullptr)) {}

void server::set_handler(request_handler& handler) { impl_->handler = &handler; }

asio::io_context& server::context() { return impl_->ioc; }

void server::on_stop(std::function<void()> callback) {
  impl_->stop_callbacks.push_back(std::move(callback));
}

server::~server() = default;

std::vector<bound_listener> server::bind() {
  // Signals are claimed before the listeners exist, so one sent as soon as a listening line is
  // printed is already ours (queued until run() waits for it), never the default action.
  impl_->signals.add(SIGTERM);
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGHUP);
  // sendfile(2) has no MSG_NOSIGNAL: writing to a connection the peer closed (FIN, then our
  // write drew its RST) raises SIGPIPE, whose default action kills the whole process. The EPIPE
  // the call returns is all a session needs (docs/errors.md: a peer reset is normal).
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<bound_listener> out;
  for (auto& l : impl_->config.listeners) {
    error_code ec;
    auto addr = asio::ip::make_address(l.address, ec);
    if (ec) {
      throw config_error(fmt::format("listen address '{}' is not an IP address", l.address));
    }
    tcp::endpoint ep(addr, l.port);
    tcp::acceptor acc(asio::make_strand(impl_->ioc));  // closed on its own strand at stop
    acc.open(ep.protocol(), ec);
    if (!ec) {
      acc.set_option(asio::socket_base::reuse_address(true), ec);
      if (addr.is_v6()) {
        acc.set_option(asio::ip::v6_only(true), ec);  // "::" and "0.0.0.0" can both be listed
      }
      acc.bind(ep, ec);
    }
    if (!ec) {
      acc.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      throw config_error(fmt::format("cannot listen on {}: {}", endpoint_text(ep), ec.message()));
    }
    auto local = acc.local_endpoint();
    out.push_back({fmt::format("{}://{}", l.tls ? "https" : "http", endpoint_text(local)), l.tls});
    impl_->acceptors.emplace_back(std::move(acc), l.tls);
  }
  return out;
}

void server::run() {
  auto& s = *impl_;
  for (auto& [acc, is_tls] : s.acceptors) {
    asio::co_spawn(acc.get_executor(), s.accept_loop(acc, is_tls), asio::detached);
  }
  s.signals.async_wait([&s](error_code ec, int sig) { s.on_signal(ec, sig); });
  // The other workers stay up (idle or not) until the first one has finished: that happens only
  // once a stop has begun and every connection has ended (the grace timer on `control` keeps it
  // busy until then), so releasing them afterwards lets each drain what is left and return.
  std::vector<std::jthread> threads;  // declared first: joined after `keep` has released them
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  for (auto& w : s.workers) {
    asio::post(w->ioc, [&s, &w = *w] { s.arm_sweep(w); });
  }
  for (std::size_t i = 1; i < s.workers.size(); ++i) {
    keep.push_back(asio::make_work_guard(s.workers[i]->ioc));
    threads.emplace_back([&w = s.workers[i]->ioc] { w.run(); });
  }
  s.ioc.run();
}

void server::stop() { impl_->begin_stop(); }

connection_counts server::counts() const {
  return {impl_->connections.load(), impl_->parked_connections.load()};
}

}  // namespace lxcdn::net
