#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/unique_fd.hpp"

namespace lxcdn {

namespace {
[[noreturn]] void fail(const std::filesystem::path& p, const char* what) {
  throw std::system_error(errno, std::generic_category(), std::string(what) + " " + p.string());
}
}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  // Built by appends: GCC 12 reports a false -Wrestrict on chained operator+ at -O2.
  std::string tmp_name = ".";
  tmp_name.append(path.filename().string()).append(".tmp.").append(std::to_string(::getpid()));
  auto tmp = dir / tmp_name;
  {
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
      fail(tmp, "cannot create");
    }
    const char* p = contents.data();
    size_t left = contents.size();
    while (left > 0) {
      ssize_t n = ::write(fd.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        fail(tmp, "cannot write");
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      fail(tmp, "cannot fsync");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail(path, "cannot rename into");
  }
  unique_fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) {
    ::fsync(dfd.get());
  }
}

}  // namespace lxcdn
