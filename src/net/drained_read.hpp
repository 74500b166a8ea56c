#pragma once
// A read of a TCP socket that, when it gets fewer bytes than it asked for, tells Asio's reactor
// the socket is drained: the next read on the socket then waits for epoll's next edge instead of
// first trying a recv that would find nothing (EAGAIN).
//
// Why: Asio tries every read speculatively first and stops only after a read that returned 0
// bytes (its recv operation reports "exhausted" only at EOF). On a keep-alive connection whose
// client sends its next request only after reading the response (LXD, wrk, any
// request-response client) that speculative recv fails every time: one syscall per request,
// 2-3% of a redirect's or a small file's CPU. nginx marks a socket not ready after a short read
// in the same way.
//
// Correct because a stream socket's recv returns fewer bytes than asked only when its receive
// queue is empty at that moment, and with epoll's edge-triggered registration (Asio's) every
// byte that arrives later raises a new edge, which makes the reactor read again. The one thing
// a short read cannot tell is a FIN that arrived together with the data (the kernel consumes it
// in the same recv and raises no further edge): such a connection is then not seen to be closed
// until its read is cancelled (the idle sweep parks it, and parking notices the end of stream at
// once) or its deadline passes. So: use it for the keep-alive wait for a next request, where the
// sweep bounds that delay, and not where a lost FIN would hold a read until a long deadline.
//
// Built on Asio's reactor operation interface (boost/asio/detail), which is not public API:
// checked against Boost 1.81 (Debian 12, the only Boost this project builds with). With any
// other Boost version it falls back to the socket's own async_read_some.
//
// Per-operation cancellation (cancellation slots) is not supported: the operation ends with
// operation_aborted on socket.cancel() or close(), which is how deadline_watch ends reads.

#include <sys/socket.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION == 108100
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#endif

#include <cerrno>
#include <cstddef>
#include <memory>
#include <utility>

namespace lxcdn::net {

#if BOOST_VERSION == 108100
namespace detail {

namespace adetail = boost::asio::detail;
using error_code = boost::system::error_code;

// The socket's descriptor and its reactor registration, reached through basic_socket's
// protected member (a pointer to member named through a derived class).
struct socket_internals : boost::asio::ip::tcp::socket {
  static auto& implementation(boost::asio::ip::tcp::socket& s) {
    return (s.*(&socket_internals::impl_)).get_implementation();
  }
};

template <class Handler, class IoExecutor>
class drained_read_op : public adetail::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(drained_read_op);

  drained_read_op(int fd, boost::asio::mutable_buffer buffer, Handler& handler,
                  const IoExecutor& io_ex)
      : reactor_op(error_code(), &drained_read_op::do_perform, &drained_read_op::do_complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  // Called by the reactor, under the descriptor's lock, speculatively or on an edge.
  static status do_perform(reactor_op* base) {
    auto* o = static_cast<drained_read_op*>(base);
    for (;;) {
      const ssize_t n = ::recv(o->fd_, o->buffer_.data(), o->buffer_.size(), MSG_DONTWAIT);
      if (n > 0) {
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        return static_cast<std::size_t>(n) < o->buffer_.size() ? done_and_exhausted : done;
      }
      if (n == 0) {
        o->bytes_transferred_ = 0;
        o->ec_ = o->buffer_.size() == 0 ? error_code() : error_code(boost::asio::error::eof);
        return done_and_exhausted;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return not_done;
      }
      o->bytes_transferred_ = 0;
      o->ec_ = error_code(errno, boost::asio::error::get_system_category());
      return done;
    }
  }

  // As Asio's own operations complete: free the operation before the upcall, which then runs
  // through the handler's executor (for a coroutine: resumes it).
  static void do_complete(void* owner, adetail::operation* base, const error_code&, std::size_t) {
    auto* o = static_cast<drained_read_op*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    adetail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    adetail::binder2<Handler, error_code, std::size_t> handler(o->handler_, o->ec_,
                                                               o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      adetail::fenced_block b(adetail::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  int fd_;
  boost::asio::mutable_buffer buffer_;
  Handler handler_;
  adetail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace detail
#endif

// Reads `socket` with drained reads. Holds the reactor of the socket's context, looked up once
// (use_service locks the context's service registry). The socket must outlive it.
class drained_reader {
 public:
  explicit drained_reader(boost::asio::ip::tcp::socket& socket)
      : socket_(socket)
#if BOOST_VERSION == 108100
        ,
        reactor_(&boost::asio::use_service<boost::asio::detail::reactor>(
            boost::asio::query(socket.get_executor(), boost::asio::execution::context)))
#endif
  {
  }

  // Reads what the socket has into `buffer` (at least one byte, or an error; eof at the end of
  // stream), completing with (error_code, bytes). See the header comment for when to use it.
  template <class Token>
  auto async_read(boost::asio::mutable_buffer buffer, Token&& token) {
#if BOOST_VERSION == 108100
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this, buffer](auto handler) {
          using op = detail::drained_read_op<decltype(handler), executor_type>;
          namespace adetail = boost::asio::detail;
          auto& impl = detail::socket_internals::implementation(socket_);
          const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
          typename op::ptr p = {std::addressof(handler), op::ptr::allocate(handler), nullptr};
          p.p = new (p.v) op(impl.socket_, buffer, handler, socket_.get_executor());
          reactor_->start_op(adetail::reactor::read_op, impl.socket_, impl.reactor_data_, p.p,
                             is_continuation, true);
          p.v = p.p = nullptr;
        },
        token);
#else
    return socket_.async_read_some(buffer, std::forward<Token>(token));
#endif
  }

 private:
  boost::asio::ip::tcp::socket& socket_;
#if BOOST_VERSION == 108100
  boost::asio::detail::reactor* reactor_;
#endif
};

}  // namespace lxcdn::net
