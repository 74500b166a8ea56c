#include "net/drained_read.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string>

namespace lxcdn::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A connected TCP pair on loopback: `a` is read with drained reads, `b` writes to it.
struct tcp_pair {
  asio::io_context ioc;
  asio::ip::tcp::socket a{ioc}, b{ioc};
  drained_reader reader{a};
  tcp_pair() {
    asio::ip::tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    a.connect(acc.local_endpoint());
    acc.accept(b);
  }
  void send(std::string_view text) { asio::write(b, asio::buffer(text)); }
};

struct read_result {
  bool completed = false;
  boost::system::error_code ec;
  std::string bytes;
};

// Starts one read of up to `size` bytes; `then` (may be empty) runs while it is pending; then
// runs the context until the read ends (at most 5 s).
template <class Then>
read_result read_once(tcp_pair& p, std::size_t size, Then then) {
  read_result r;
  std::string buffer(size, '\0');
  p.reader.async_read(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
    r.completed = true;
    r.ec = ec;
    r.bytes = buffer.substr(0, n);
  });
  then();
  p.ioc.restart();
  p.ioc.run_for(5s);
  return r;
}
read_result read_once(tcp_pair& p, std::size_t size) {
  return read_once(p, size, [] {});
}

TEST(DrainedRead, ReadsWhatIsThere) {
  tcp_pair p;
  p.send("GET / HTTP/1.1\r\n\r\n");
  auto r = read_once(p, 4096);
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.bytes, "GET / HTTP/1.1\r\n\r\n");
}

TEST(DrainedRead, AfterAShortReadTheNextReadWaitsForNewBytes) {
  tcp_pair p;
  p.send("abc");
  ASSERT_EQ(read_once(p, 4096).bytes, "abc");  // short: the socket is now marked drained
  // The next read is pending before the bytes are sent: epoll's edge must complete it.
  auto r = read_once(p, 4096, [&] { p.send("de"); });
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.bytes, "de");
}

TEST(DrainedRead, BytesThatArriveBetweenTwoReadsAreNotLost) {
  tcp_pair p;
  p.send("abc");
  ASSERT_EQ(read_once(p, 4096).bytes, "abc");
  // Bytes arrive while no read is pending, and the reactor sees their edge (run_for with
  // nothing to do still polls it) before the next read starts.
  p.send("xyz");
  p.ioc.restart();
  p.ioc.run_for(50ms);
  auto r = read_once(p, 4096);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.bytes, "xyz");
}

TEST(DrainedRead, AFullBufferLeavesTheRestReadable) {
  tcp_pair p;
  p.send("0123456789");
  EXPECT_EQ(read_once(p, 4).bytes, "0123");
  EXPECT_EQ(read_once(p, 4).bytes, "4567");
  EXPECT_EQ(read_once(p, 4).bytes, "89");
}

TEST(DrainedRead, EndOfStreamAfterADrainedReadIsSeen) {
  tcp_pair p;
  p.send("abc");
  ASSERT_EQ(read_once(p, 4096).bytes, "abc");
  auto r = read_once(p, 4096, [&] { p.b.shutdown(asio::ip::tcp::socket::shutdown_send); });
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, asio::error::eof);
}

TEST(DrainedRead, CancelEndsAPendingRead) {
  tcp_pair p;
  auto r = read_once(p, 4096, [&] { p.a.cancel(); });
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

TEST(DrainedRead, CloseEndsAPendingRead) {
  tcp_pair p;
  auto r = read_once(p, 4096, [&] { p.a.close(); });
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

TEST(DrainedRead, AClosedSocketIsAnError) {
  tcp_pair p;
  p.a.close();
  auto r = read_once(p, 4096);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, asio::error::bad_descriptor);
}

}  // namespace
}  // namespace lxcdn::net
