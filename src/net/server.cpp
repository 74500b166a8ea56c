#include "net/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <malloc.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
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

namespace {

// Our Server and Date fields and the blank line that ends a head. Appended rather than set in
// the fields: no allocation per response for them.
void append_head_end(std::string& out) {
  out += "Server: lxcdn\r\nDate: ";
  out += cached_http_date();
  out += "\r\n\r\n";
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_status_line(std::string& out, unsigned version, unsigned status,
                        std::string_view reason) {
  char code[4];
  code[0] = static_cast<char>('0' + status / 100 % 10);
  code[1] = static_cast<char>('0' + status / 10 % 10);
  code[2] = static_cast<char>('0' + status % 10);
  code[3] = ' ';
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out.append(code, sizeof code);
  out += reason;
  out += "\r\n";
}

}  // namespace

void append_head(std::string& out, const response_head& head) {
  append_status_line(out, head.version(), head.result_int(), head.reason());
  for (const auto& f : head) {
    if (f.name() == http::field::server || f.name() == http::field::date) {
      continue;  // ours, below
    }
    append_field(out, f.name_string(), f.value());
  }
  append_head_end(out);
}

void append_head(std::string& out, http::status status, unsigned version, bool keep_alive,
                 std::span<const head_field> fields) {
  append_status_line(out, version, static_cast<unsigned>(status), http::obsolete_reason(status));
  for (const auto& f : fields) {
    append_field(out, f.name, f.value);
  }
  // What Beast's keep_alive() sets: each version's default is left unsaid.
  if (version >= 11 && !keep_alive) {
    append_field(out, "Connection", "close");
  } else if (version < 11 && keep_alive) {
    append_field(out, "Connection", "keep-alive");
  }
  append_head_end(out);
}

namespace {

// A connection in its request loop or *waiting*, as seen by shutdown and by its worker's sweep.
// Confined to its worker.
//
// Waiting is the first step of parking on a crowded thread: the loop has ended (its memory is
// free) right after a response, and the socket waits here, still with Asio, for the first byte of
// the next request (a one-byte MSG_PEEK receive: no epoll_ctl, unlike async_wait). A busy client
// comes back within milliseconds and costs only a new loop; one still quiet at two sweeps is
// moved on into the parked set (parked_connection), which holds far less.
struct connection_slot {
  tcp::socket* socket = nullptr;  // the loop's socket, or `waiting`; null once ended
  bool busy = false;              // between reading a request and finishing its response
  bool parkable = false;          // inside its request loop (after the TLS handshake)
  bool idle_seen = false;         // parkable or waiting, and not busy, at the last sweep
  bool park_requested = false;    // the sweep cancelled the loop's keep-alive read
  bool deepen = false;            // the sweep cancelled the waiting peek to park the connection
  std::optional<tcp::socket> waiting;  // the socket while waiting
  ssl_ptr waiting_tls;                 // a waiting TLS connection's state
  unsigned char peeked = 0;            // where the waiting peek puts its byte
  std::chrono::steady_clock::time_point idle_since;  // waiting since
  tcp::endpoint peer;
};

using slot_list = std::list<connection_slot>;

// A parked connection. An idle keep-alive connection is *parked* when it has been found idle by
// two sweeps in a row, in its request loop (the sweep cancels the loop's keep-alive read) or
// waiting (see connection_slot). What is left of it is this entry: its descriptor, which
// Asio has let go of and which waits in the worker's own epoll set, its peer, and for TLS its
// SSL object. About 60 bytes in a vector, against about 9 KiB for a request loop and about
// 0.8 KiB for an Asio socket with a pending wait. The first byte of its next request (or its
// FIN) starts a new loop. A TLS connection is parked only while OpenSSL holds no input of its own.
struct parked_connection {
  int fd = -1;  // -1: a free entry
  ssl_ptr tls;
  tcp::endpoint peer;
  std::chrono::steady_clock::time_point deadline;  // idle_timeout ends here
};

// An I/O thread: its io_context, its connections, and the timer that sweeps them.
struct worker {
  worker() : sweep(ioc), park_watch(ioc) {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_create1");
    }
    park_watch.assign(fd);
  }
  ~worker() {
    for (auto& p : parked) {
      if (p.fd >= 0) {
        ::close(p.fd);
      }
    }
  }
  asio::io_context ioc{1};
  slot_list slots;  // touched only on this worker's thread
  // More than crowded_above connections, parked ones included: sweeps come faster.
  bool crowded = false;
  std::size_t crowded_above = 64;  // set by the server (server::impl::crowded_above)
  asio::steady_timer sweep;
  std::size_t parks_since_trim = 0;  // see arm_sweep
  std::vector<parked_connection> parked;      // by the index in each one's epoll data
  std::vector<std::uint32_t> free_parked;     // free entries of `parked`
  asio::posix::stream_descriptor park_watch;  // the epoll set of the parked descriptors
};

}  // namespace

struct server::impl {
  impl(server_config c, request_handler* h)
      : config(std::move(c)), handler(h), workers(make_workers(config.threads)),
        ioc(workers.front()->ioc), control(asio::make_strand(ioc)), signals(ioc),
        grace_timer(control) {
    for (auto& w : workers) {
      w->crowded_above = crowded_above(config.limits, workers.size());
    }
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
  // `threads: 0`: one per CPU this process may run on, from its affinity mask (taskset, a
  // container's cpuset), as nginx's `worker_processes auto` does, rather than one per core of the
  // machine: more threads than usable cores only take turns on them.
  static unsigned usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
      return static_cast<unsigned>(CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
  }

  static std::vector<std::unique_ptr<worker>> make_workers(unsigned threads) {
    unsigned n = threads ? threads : usable_cpus();
    std::vector<std::unique_ptr<worker>> out;
    for (unsigned i = 0; i < n; ++i) {
      out.push_back(std::make_unique<worker>());
    }
    return out;
  }

  server_config config;
  request_handler* handler;  // set before run()
  std::vector<std::function<void()>> stop_callbacks;
  std::vector<std::function<void()>> drained_callbacks;  // run once, on `control`
  bool drained_called = false;                            // on `control`
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

  // A thread with more connections than crowded_above() (parked ones included) is *crowded*:
  // there a keep-alive connection whose next request is not already in when its response is out
  // leaves its loop at once and waits (connection_slot), and sweeps come every 100 ms instead of
  // every park_after, so a quiet one is parked 100 to 200 ms later. Then only connections with a
  // request in progress hold a loop's memory (frames, buffer, parser: about 9 KiB), and a burst
  // of clients that then go quiet leaves no peak of freed loops behind, which the heap could not
  // give back while parked connections sit between them (bench/connections, 10,000 idle
  // connections: 5.8 KiB resident each with parking at two park_after; about 0.15 KiB now).
  // Below the threshold a keep-alive connection keeps its loop between requests, which is
  // cheaper per request than a new loop each time: on a thread of busy keep-alive clients the
  // eager exit costs a new loop, a peek and its wake-up per request (bench/redirect r1 with
  // `--workers 1`, 65 connections on one thread: 12.5 us of CPU per redirect crowded, 6.8 us not).
  //
  // The threshold is an eighth of the thread's share of max_connections, and at least 64: the
  // loops that can be left standing between requests then hold at most about
  // max_connections / 8 x 9 KiB (11 MB at the default 10,000), while a thread serving a few
  // hundred busy clients pays nothing per request for parking.
  static std::size_t crowded_above(const limits_config& limits, std::size_t threads) {
    return std::max<std::size_t>(64, limits.max_connections / threads / 8);
  }

  // Connections on the thread, in their loops or parked.
  static void note_connection_count(worker& w) {
    w.crowded = w.slots.size() + w.parked.size() - w.free_parked.size() > w.crowded_above;
  }

  // The time between two sweeps of `w`.
  std::chrono::milliseconds sweep_interval(const worker& w) const {
    return w.crowded ? std::min(std::chrono::milliseconds(100), park_after()) : park_after();
  }

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
        asio::post(w->ioc, [this, &w = *w] {
          w.sweep.cancel();
          w.park_watch.cancel();
          for (std::uint32_t i = 0; i < w.parked.size(); ++i) {
            if (w.parked[i].fd >= 0) {
              close_parked(w, i);
            }
          }
        });
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
      // Cancelled when the last connection ends; either way the drain is over then.
      grace_timer.async_wait([this](error_code ec) {
        if (!ec) {
          spdlog::warn("shutdown grace period over: closing {} connections", connections.load());
          for_each_slot([](connection_slot& s) { close_socket(s); });
        }
        run_drained_callbacks();
      });
      if (connections.load() == 0) {
        grace_timer.cancel();
      }
    });
  }

  // On `control`, once per stop.
  void run_drained_callbacks() {
    if (drained_called) {
      return;
    }
    drained_called = true;
    for (auto& cb : drained_callbacks) {
      cb();
    }
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
      spawn_connection(w, std::move(socket), tls_port, false, tcp::endpoint(), nullptr);
    }
  }

  // Starts the request loop of a new connection, or of a parked one that is readable again
  // (`resumed`: its peer, and its TLS state if it has one).
  void spawn_connection(worker& w, tcp::socket socket, bool tls_port, bool resumed,
                        tcp::endpoint peer, ssl_ptr tls_state) {
    asio::co_spawn(w.ioc,
                   run_connection(w, std::move(socket), tls_port, resumed, peer,
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

  // Parks a connection whose loop is ending (see parked_connection): Asio lets go of the
  // descriptor, which joins the worker's epoll set. Returns false if that failed; the
  // connection is then closed.
  bool park(worker& w, tcp::socket& socket, ssl_ptr& tls_state, const tcp::endpoint& peer,
            std::chrono::steady_clock::time_point deadline) {
    error_code ec;
    const int fd = socket.release(ec);
    if (ec) {
      socket.close(ec);
      return false;
    }
    std::uint32_t index;
    if (!w.free_parked.empty()) {
      index = w.free_parked.back();
      w.free_parked.pop_back();
    } else {
      index = static_cast<std::uint32_t>(w.parked.size());
      w.parked.emplace_back();
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    if (::epoll_ctl(w.park_watch.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("{}: cannot park an idle connection, closing it: {}", endpoint_text(peer),
                   std::strerror(errno));
      ::close(fd);
      w.free_parked.push_back(index);
      return false;
    }
    auto& p = w.parked[index];
    p.fd = fd;
    p.tls = std::move(tls_state);
    p.peer = peer;
    p.deadline = deadline;
    ++parked_connections;
    ++w.parks_since_trim;
    note_connection_count(w);
    return true;
  }

  // Takes entry `index` out of the parked set; returns its descriptor (now the caller's).
  static int unlist_parked(worker& w, std::uint32_t index) {
    auto& p = w.parked[index];
    const int fd = p.fd;
    ::epoll_ctl(w.park_watch.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
    p.fd = -1;
    p.tls.reset();
    w.free_parked.push_back(index);
    note_connection_count(w);
    return fd;
  }

  // Ends a parked connection: its idle deadline passed, or a stop began.
  void close_parked(worker& w, std::uint32_t index) {
    ::close(unlist_parked(w, index));
    --parked_connections;
    --connections;
    maybe_finish_stop();
  }

  // Waits until some parked connection is readable (its next request, or its FIN) and starts a
  // request loop for each that is. Asio re-arms its registration of the epoll set at each wait,
  // so readiness that arrives between two waits is not lost.
  void watch_parked(worker& w) {
    w.park_watch.async_wait(asio::posix::stream_descriptor::wait_read, [this, &w](error_code ec) {
      if (ec || stopping) {
        return;
      }
      std::array<epoll_event, 64> events;
      const int n = ::epoll_wait(w.park_watch.native_handle(), events.data(),
                                 static_cast<int>(events.size()), 0);
      for (int i = 0; i < n; ++i) {
        const auto index = static_cast<std::uint32_t>(events[i].data.u64);
        if (w.parked[index].fd < 0) {
          continue;
        }
        ssl_ptr tls_state = std::move(w.parked[index].tls);
        const tcp::endpoint peer = w.parked[index].peer;
        const int fd = unlist_parked(w, index);
        --parked_connections;
        tcp::socket socket(w.ioc);
        error_code aec;
        socket.assign(peer.protocol(), fd, aec);
        if (aec) {
          ::close(fd);
          --connections;
          maybe_finish_stop();
          continue;
        }
        spawn_connection(w, std::move(socket), false, true, peer, std::move(tls_state));
      }
      watch_parked(w);
    });
  }

  // What becomes of a connection whose request loop ended with `end`: it waits (it ended idle on
  // a crowded thread), it is parked (its keep-alive read failed while the sweep had asked for a
  // park: serve() returns with busy == false only from its keep-alive wait, or at a stop, so that
  // read was almost surely cancelled by the sweep; should it have been a real error or the peer's
  // FIN instead, the parked socket is readable at once and the next loop meets it again), or it
  // ends.
  enum class next_step { wait, park, end };
  next_step after_loop(const connection_slot& slot, session_end end, const tcp::socket& socket,
                       const beast::flat_buffer& buffer) const {
    if (slot.busy || stopping || !socket.is_open() || buffer.size() != 0) {
      return next_step::end;
    }
    if (end == session_end::idle) {
      return next_step::wait;
    }
    if (end == session_end::broken && slot.park_requested) {
      return next_step::park;
    }
    return next_step::end;
  }

  // The deadline of a connection parked by the sweep from its loop: it has been idle for one to
  // two sweep intervals already.
  std::chrono::steady_clock::time_point loop_park_deadline(const worker& w) const {
    return std::chrono::steady_clock::now() + limits().idle_timeout - sweep_interval(w);
  }

  // Keeps a connection whose loop just ended idle waiting in its slot (see connection_slot).
  void start_waiting(worker& w, slot_list::iterator it, tcp::socket socket, ssl_ptr tls_state) {
    auto& slot = *it;
    slot.parkable = slot.idle_seen = slot.park_requested = slot.deepen = false;
    slot.waiting.emplace(std::move(socket));
    slot.waiting_tls = std::move(tls_state);
    slot.socket = &*slot.waiting;
    slot.idle_since = std::chrono::steady_clock::now();
    ++parked_connections;
    slot.waiting->async_receive(asio::buffer(&slot.peeked, 1), tcp::socket::message_peek,
                                [this, &w, it](error_code ec, std::size_t) {
                                  waiting_done(w, it, ec);
                                });
  }

  // A waiting connection has a byte to read (its next request: a new loop), or its FIN or an
  // error (it ends), or its peek was cancelled: by the sweep to park it (`deepen`), or by an idle
  // deadline or a stop that closed it.
  void waiting_done(worker& w, slot_list::iterator it, error_code ec) {
    auto& slot = *it;
    --parked_connections;
    tcp::socket socket = std::move(*slot.waiting);
    ssl_ptr tls_state = std::move(slot.waiting_tls);
    const tcp::endpoint peer = slot.peer;
    const auto deadline = slot.idle_since + limits().idle_timeout;
    const bool deepen = slot.deepen;
    w.slots.erase(it);
    note_connection_count(w);
    if (!ec && !stopping) {
      spawn_connection(w, std::move(socket), false, true, peer, std::move(tls_state));
      return;
    }
    if (ec == asio::error::operation_aborted && deepen && !stopping && socket.is_open() &&
        park(w, socket, tls_state, peer, deadline)) {
      return;
    }
    error_code ignored;
    socket.close(ignored);
    --connections;
    maybe_finish_stop();
  }

  // Every sweep_interval: closes parked and waiting connections past their idle deadline, parks
  // those found waiting by two sweeps in a row, and asks those found idle in their request loop by
  // two sweeps in a row to park (their keep-alive read is cancelled; a request that arrives first
  // simply wins, and the loop goes on).
  void arm_sweep(worker& w) {
    w.sweep.expires_after(sweep_interval(w));
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
      for (std::uint32_t i = 0; i < w.parked.size(); ++i) {
        if (w.parked[i].fd >= 0 && now >= w.parked[i].deadline) {
          close_parked(w, i);
        }
      }
      for (auto& s : w.slots) {
        error_code ignored;
        if (s.waiting) {
          if (now >= s.idle_since + limits().idle_timeout) {
            s.waiting->close(ignored);  // its peek ends with operation_aborted: closed
          } else if (!s.idle_seen) {
            s.idle_seen = true;
          } else if (!s.deepen) {
            s.deepen = true;
            s.waiting->cancel(ignored);  // its peek ends with operation_aborted: parked
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
  awaitable<bool> serve_tls(worker& w, slot_list::iterator it, bool& keep_slot,
                            tls_stream& stream, beast::flat_buffer& buffer,
                            const session_env& env) {
    connection_slot& slot = *it;
    slot.socket = &stream.socket();
    slot.parkable = true;
    const session_end end = co_await serve(stream, buffer, slot.peer, true, env, slot.busy);
    slot.parkable = false;
    const next_step next = stream.has_pending() ? next_step::end
                                                : after_loop(slot, end, stream.socket(), buffer);
    if (next != next_step::end) {
      auto parts = stream.release();
      slot.socket = nullptr;
      if (next == next_step::wait) {
        start_waiting(w, it, std::move(parts.first), std::move(parts.second));
        keep_slot = true;
        co_return true;
      }
      co_return park(w, parts.first, parts.second, slot.peer, loop_park_deadline(w));
    }
    slot.park_requested = false;
    if (end == session_end::clean) {
      stream.expires_after(std::chrono::seconds(2));
      co_await stream.shutdown();
    }
    co_return false;
  }

  // Returns true when the connection was parked (it lives on as a parked_connection), false
  // when it ended. `resumed`: a parked connection come back, with `resumed_peer` and, for TLS,
  // `tls_state`.
  awaitable<bool> run_connection(worker& w, tcp::socket socket, bool tls_port, bool resumed,
                                 tcp::endpoint resumed_peer, ssl_ptr tls_state) {
    w.slots.emplace_back();
    const auto it = std::prev(w.slots.end());
    note_connection_count(w);
    connection_slot& slot = *it;
    error_code ec;
    if (resumed) {
      slot.peer = resumed_peer;
    } else {
      slot.peer = socket.remote_endpoint(ec);
      socket.set_option(tcp::no_delay(true), ec);
    }
    const tcp::endpoint peer = slot.peer;
    bool keep_slot = false;  // the connection waits in its slot
    struct unregister {
      worker& w;
      slot_list::iterator it;
      const bool& keep;
      ~unregister() {
        if (!keep) {
          w.slots.erase(it);
          note_connection_count(w);
        }
      }
    } guard{w, it, keep_slot};
    const session_env env{limits(), *handler, stopping, w.crowded};
    try {
      slot.socket = &socket;
      beast::flat_buffer buffer;
      if (tls_state) {
        tls_stream stream(std::move(socket), std::move(tls_state));
        co_return co_await serve_tls(w, it, keep_slot, stream, buffer, env);
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
          co_return co_await serve_tls(w, it, keep_slot, stream, buffer, env);
        }
      }
      plain_stream stream(std::move(socket));
      slot.socket = &stream.socket();
      slot.parkable = true;
      const session_end end = co_await serve(stream, buffer, peer, false, env, slot.busy);
      slot.parkable = false;
      const next_step next = after_loop(slot, end, stream.socket(), buffer);
      if (next == next_step::wait) {
        slot.socket = nullptr;
        start_waiting(w, it, stream.release_socket(), nullptr);
        keep_slot = true;
        co_return true;
      }
      if (next == next_step::park) {
        slot.socket = nullptr;
        ssl_ptr none;
        co_return park(w, stream.socket(), none, peer, loop_park_deadline(w));
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

void server::on_drained(std::function<void()> callback) {
  impl_->drained_callbacks.push_back(std::move(callback));
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
    asio::post(w->ioc, [&s, &w = *w] {
      s.arm_sweep(w);
      s.watch_parked(w);
    });
  }
  for (std::size_t i = 1; i < s.workers.size(); ++i) {
    keep.push_back(asio::make_work_guard(s.workers[i]->ioc));
    threads.emplace_back([&w = s.workers[i]->ioc] { w.run(); });
  }
  s.ioc.run();
}

void server::stop() { impl_->begin_stop(); }

std::size_t server::io_threads() const { return impl_->workers.size(); }

connection_counts server::counts() const {
  return {impl_->connections.load(), impl_->parked_connections.load()};
}

}  // namespace lxcdn::net
