#include "origin/root_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/unique_fd.hpp"

namespace lxcdn::origin {

std::atomic<std::uint64_t> root_dir::next_id_{1};

root_dir::root_dir(std::filesystem::path path) : path_(std::move(path)), id_(next_id_++) {}

namespace {

struct identity {
  dev_t dev = 0;
  ino_t ino = 0;
  struct timespec ctime{};
  bool operator==(const identity& o) const {
    return dev == o.dev && ino == o.ino && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

identity identity_of(const struct stat& st) { return {st.st_dev, st.st_ino, st.st_ctim}; }

struct thread_cache {
  std::uint64_t owner = 0;
  identity id;
  unique_fd fd;
};

}  // namespace

int root_dir::current() const {
  thread_local thread_cache cache;
  struct stat st{};
  if (::stat(path_.c_str(), &st) != 0) {
    return -1;
  }
  if (cache.owner == id_ && cache.fd && identity_of(st) == cache.id) {
    return cache.fd.get();
  }
  unique_fd fd(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  // The identity comes from the descriptor itself: if the path switched between the stat and the
  // open, the next call sees the difference and opens again, never the reverse.
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    return -1;
  }
  cache.owner = id_;
  cache.id = identity_of(st);
  cache.fd = std::move(fd);
  return cache.fd.get();
}

}  // namespace lxcdn::origin
