#include "net/deadline_watch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace lxcdn::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A connected TCP pair on loopback: the watched socket and its silent peer.
struct tcp_pair {
  asio::io_context ioc;
  asio::ip::tcp::socket a{ioc}, b{ioc};
  tcp_pair() {
    asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    a.connect(acc.local_endpoint());
    acc.accept(b);
  }
};

// Starts a guarded one-byte read on the silent socket and runs until it ends (at most 5 s):
// how it ended and how long it took.
struct read_result {
  boost::system::error_code ec;
  clock_type::duration took{};
};
read_result guarded_read(tcp_pair& p, deadline_watch& w) {
  char byte;
  read_result r;
  auto start = clock_type::now();
  w.guard(p.a);
  p.a.async_read_some(asio::buffer(&byte, 1), [&](auto ec, std::size_t) {
    r.ec = ec;
    r.took = clock_type::now() - start;
  });
  p.ioc.run_for(5s);
  return r;
}

TEST(DeadlineWatch, CancelsAPendingReadWhenTheDeadlinePasses) {
  tcp_pair p;
  deadline_watch w;
  w.expires_after(50ms);
  auto [got, took] = guarded_read(p, w);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(w.expired());
}

TEST(DeadlineWatch, ADeadlineMovedLaterIsHonouredNotTheFirstOne) {
  // The timer armed for the first deadline fires early and re-arms itself: the read survives
  // past the first deadline and ends at the last one.
  tcp_pair p;
  deadline_watch w;
  w.expires_after(40ms);
  w.guard(p.a);
  w.expires_after(300ms);
  auto [got, took] = guarded_read(p, w);
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
}

TEST(DeadlineWatch, AReadThatGetsDataIsNotCancelledAndDetachStopsTheTimer) {
  tcp_pair p;
  deadline_watch w;
  w.expires_after(100ms);
  w.guard(p.a);
  char byte = 0;
  std::size_t n = 0;
  boost::system::error_code got;
  p.a.async_read_some(asio::buffer(&byte, 1), [&](auto ec, std::size_t k) {
    got = ec;
    n = k;
    w.detach();  // the connection moves on: the timer must not cancel what follows
    // A second read with no deadline guard: it must outlive the old deadline.
    p.a.async_read_some(asio::buffer(&byte, 1), [&](auto ec2, std::size_t) { got = ec2; });
  });
  asio::write(p.b, asio::buffer("x", 1));
  p.ioc.run_for(400ms);
  EXPECT_EQ(n, 1u);
  EXPECT_FALSE(got) << got.message();  // the second read is still pending, not cancelled
}

TEST(DeadlineWatch, NoDeadlineMeansNoCancellation) {
  tcp_pair p;
  deadline_watch w;
  w.guard(p.a);
  char byte;
  bool done = false;
  p.a.async_read_some(asio::buffer(&byte, 1), [&](auto, std::size_t) { done = true; });
  p.ioc.run_for(200ms);
  EXPECT_FALSE(done);
  EXPECT_FALSE(w.expired());
}

}  // namespace
}  // namespace lxcdn::net
