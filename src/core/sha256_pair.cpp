#include "core/sha256_pair.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"

namespace lxcdn {

namespace {

// Each pass reads into its own buffer of this size: small enough to stay in the core's L2 cache
// between the copy from the page cache and the hashing.
constexpr std::size_t chunk_size = 1 << 17;

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

// Reads the whole of `fd` with pread into a buffer of its own and hashes it into `h`. Returns the
// bytes read (the size at EOF) or the read error.
struct hash_pass {
  std::error_code error;
  std::uint64_t total = 0;
};
hash_pass hash_whole(int fd, sha256& h) {
  std::vector<std::byte> buf(chunk_size);
  hash_pass out;
  for (;;) {
    auto n = pread_full(fd, buf.data(), buf.size(), out.total);
    if (n < 0) {
      out.error = std::error_code(static_cast<int>(-n), std::generic_category());
      return out;
    }
    h.update(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
    out.total += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) < buf.size()) {
      return out;
    }
  }
}

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
  hash_pass pa, pb;
  {
    std::jthread other([&] { pb = hash_whole(fd.get(), b); });
    pa = hash_whole(fd.get(), a);
  }
  if (pa.error || pb.error) {
    return pa.error ? pa.error : pb.error;
  }
  if (pa.total != pb.total) {
    // The file grew or shrank while the two passes read it: the states saw different bytes.
    return std::make_error_code(std::errc::resource_unavailable_try_again);
  }
  if (bytes_read) {
    *bytes_read = pa.total;
  }
  return {};
}

}  // namespace lxcdn
