#include "publish/fs_ops.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/unique_fd.hpp"
#include "publish/signer.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& p, int err) {
  throw publish_error(what + " " + p.string() + ": " + std::strerror(err));
}

void fsync_dir(const fs::path& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) {
    ::fsync(fd.get());
  }
}

}  // namespace

bool link_or_copy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    return true;
  }
  if (errno != EXDEV && errno != EPERM) {
    fail("cannot link " + from.string() + " to", to, errno);
  }
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) {
    throw publish_error("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  unique_fd fd(::open(to.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) {
    fail("cannot fsync", to, errno);
  }
  return false;
}

void replace_symlink(const fs::path& link, const std::string& target) {
  auto tmp = link.parent_path() / ("." + link.filename().string() + ".tmp." + std::to_string(::getpid()));
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) {
    fail("cannot create symlink", tmp, errno);
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot switch", link, err);
  }
  fsync_dir(link.parent_path());
}

std::optional<std::string> read_link(const fs::path& link) {
  std::error_code ec;
  auto t = fs::read_symlink(link, ec);
  if (ec) {
    return std::nullopt;
  }
  return t.string();
}

void sync_file_system(const fs::path& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::syncfs(fd.get()) != 0) {
    fail("cannot sync", dir, errno);
  }
}

std::optional<std::string> read_whole_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_new_file(const fs::path& p, std::string_view contents) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) {
    throw publish_error("cannot write " + p.string());
  }
}

void remove_tree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) {
    throw publish_error("cannot remove " + p.string() + ": " + ec.message());
  }
}

void fsync_path(const fs::path& p) {
  unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd || ::fsync(fd.get()) != 0) {
    fail("cannot fsync", p, errno);
  }
}

void rename_path(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    fail("cannot rename " + from.string() + " to", to, errno);
  }
}

void exchange_paths(const fs::path& a, const fs::path& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
    fail("cannot exchange " + a.string() + " and", b, errno);
  }
  fsync_dir(b.parent_path());
}

}  // namespace lxcdn::publish
