#include "core/sha256_pair.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"

namespace lxcdn {

namespace {

constexpr std::size_t chunk_size = 1 << 20;
constexpr std::size_t slots = 4;  // chunks in flight: a reader stays up to 3 chunks ahead

// Fills `buf` from `offset` until it is full or EOF. Returns the bytes read, or -errno.
ssize_t pread_full(int fd, std::byte* buf, std::size_t size, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -errno;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

// The ring the two hashing threads share. Chunk i lives in slot i % slots and is read by thread
// i % 2; it may be read only once both threads have finished chunk i - slots (the slot's last
// user). The end is the first chunk that reads short (EOF). Internally synchronized by `m`.
class chunk_ring {
 public:
  explicit chunk_ring(int fd) : fd_(fd) {
    for (auto& b : buf_) {
      b.resize(chunk_size);
    }
    seq_.fill(std::numeric_limits<std::uint64_t>::max());
  }

  // Thread `me` (0 or 1) hashes every chunk into `h` in order. Returns when the end is reached or
  // either thread failed to read.
  void run(int me, sha256& h) {
    std::unique_lock lock(m_);
    for (std::uint64_t i = 0;; ++i) {
      auto s = i % slots;
      auto past_end = [&] { return failed_ || (end_ && i >= *end_); };
      if (static_cast<int>(i % 2) == me) {
        cv_.wait(lock, [&] {
          return past_end() || (finished_[0] + slots >= i + 1 && finished_[1] + slots >= i + 1);
        });
        if (past_end()) {
          return;
        }
        lock.unlock();
        auto n = pread_full(fd_, buf_[s].data(), chunk_size, i * chunk_size);
        lock.lock();
        if (n < 0) {
          error_ = std::error_code(static_cast<int>(-n), std::generic_category());
          failed_ = true;
          cv_.notify_all();
          return;
        }
        len_[s] = static_cast<std::size_t>(n);
        seq_[s] = i;
        if (len_[s] < chunk_size) {
          end_ = i + 1;
          total_ = i * chunk_size + len_[s];
        }
        cv_.notify_all();
      } else {
        cv_.wait(lock, [&] { return past_end() || seq_[s] == i; });
        if (failed_ || seq_[s] != i) {
          return;
        }
      }
      auto len = len_[s];
      lock.unlock();
      h.update(std::span<const std::byte>(buf_[s].data(), len));
      lock.lock();
      finished_[me] = i + 1;
      cv_.notify_all();
      if (end_ && i + 1 >= *end_) {
        return;
      }
    }
  }

  std::error_code error() const { return error_; }
  std::uint64_t total() const { return total_; }

 private:
  int fd_;
  std::mutex m_;
  std::condition_variable cv_;
  std::array<std::vector<std::byte>, slots> buf_;
  std::array<std::size_t, slots> len_{};
  std::array<std::uint64_t, slots> seq_{};   // which chunk each slot holds
  std::array<std::uint64_t, 2> finished_{};  // chunks each thread has hashed
  std::optional<std::uint64_t> end_;         // number of chunks, once a short read was seen
  bool failed_ = false;
  std::error_code error_;
  std::uint64_t total_ = 0;
};

}  // namespace

std::error_code hash_file_into_both(const std::filesystem::path& path, sha256& a, sha256& b,
                                    std::uint64_t* bytes_read) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return {errno, std::generic_category()};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return {errno, std::generic_category()};
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  if (static_cast<std::uint64_t>(st.st_size) < hash_pair_parallel_from) {
    std::vector<std::byte> buf(chunk_size);
    std::uint64_t total = 0;
    for (;;) {
      auto n = pread_full(fd.get(), buf.data(), buf.size(), total);
      if (n < 0) {
        return {static_cast<int>(-n), std::generic_category()};
      }
      std::span<const std::byte> chunk(buf.data(), static_cast<std::size_t>(n));
      a.update(chunk);
      b.update(chunk);
      total += static_cast<std::uint64_t>(n);
      if (static_cast<std::size_t>(n) < buf.size()) {
        break;
      }
    }
    if (bytes_read) {
      *bytes_read = total;
    }
    return {};
  }
  chunk_ring ring(fd.get());
  {
    std::jthread other([&] { ring.run(1, b); });
    ring.run(0, a);
  }
  if (ring.error()) {
    return ring.error();
  }
  if (bytes_read) {
    *bytes_read = ring.total();
  }
  return {};
}

}  // namespace lxcdn
