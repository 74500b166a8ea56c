#include "demo/tool_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "core/unique_fd.hpp"

extern char** environ;

namespace lxcdn::demo {

namespace {

bool is_executable_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

struct pipe_pair {
  unique_fd read;
  unique_fd write;
};

pipe_pair make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

// Owns a posix_spawn_file_actions_t.
class file_actions {
 public:
  file_actions() { ::posix_spawn_file_actions_init(&fa_); }
  ~file_actions() { ::posix_spawn_file_actions_destroy(&fa_); }
  file_actions(const file_actions&) = delete;
  file_actions& operator=(const file_actions&) = delete;
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

// Reads both pipes to EOF (poll, so a child filling one pipe never blocks on the other).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  std::array<pollfd, 2> pfd{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> sink{&out, &err};
  int open_fds = 2;
  std::array<char, 65536> buf{};
  while (open_fds > 0) {
    if (::poll(pfd.data(), pfd.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (std::size_t i = 0; i < pfd.size(); ++i) {
      if (pfd[i].fd < 0 || pfd[i].revents == 0) {
        continue;
      }
      ssize_t n = ::read(pfd[i].fd, buf.data(), buf.size());
      if (n > 0) {
        sink[i]->append(buf.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        pfd[i].fd = -1;
        --open_fds;
      }
    }
  }
}

std::string tail(const std::string& s, std::size_t max_bytes) {
  return s.size() <= max_bytes ? s : "..." + s.substr(s.size() - max_bytes);
}

}  // namespace

std::optional<std::filesystem::path> find_tool(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return is_executable_file(name) ? std::optional<std::filesystem::path>(name) : std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::filesystem::path dir = path.substr(start, end - start);
    auto candidate = (dir.empty() ? std::filesystem::path(".") : dir) / name;
    if (is_executable_file(candidate)) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::filesystem::path require_tool(const std::string& name, const std::string& package) {
  auto found = find_tool(name);
  if (!found) {
    throw std::runtime_error("`" + name + "` not found in PATH; install the Debian package " +
                             package + " (scripts/install-deps does)");
  }
  return *found;
}

std::string run_tool(const std::filesystem::path& tool, const std::vector<std::string>& args) {
  std::vector<std::string> argv_store{tool.string()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "LC_ALL=", 7) != 0) {
      env_store.emplace_back(*e);
    }
  }
  env_store.emplace_back("LC_ALL=C");
  std::vector<char*> envp;
  for (auto& e : env_store) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  auto out = make_pipe();
  auto err = make_pipe();
  file_actions fa;
  ::posix_spawn_file_actions_addopen(fa.get(), 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(fa.get(), out.write.get(), 1);
  ::posix_spawn_file_actions_adddup2(fa.get(), err.write.get(), 2);

  const std::string what = "`" + tool.filename().string() + "`";
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, tool.c_str(), fa.get(), nullptr, argv.data(), envp.data());
  if (rc != 0) {
    throw std::runtime_error("cannot start " + what + " (" + tool.string() +
                             "): " + std::strerror(rc));
  }
  out.write.reset();
  err.write.reset();

  std::string stdout_text;
  std::string stderr_text;
  drain(out.read.get(), err.read.get(), stdout_text, stderr_text);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "waitpid for " + what);
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return stdout_text;
  }
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  std::string command;
  for (const auto& a : argv_store) {
    command += (command.empty() ? "" : " ") + a;
  }
  throw std::runtime_error(what + " " + how + "\n  command: " + command +
                           "\n  stderr: " + tail(stderr_text, 2000));
}

}  // namespace lxcdn::demo
