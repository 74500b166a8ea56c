#include "demo/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <iostream>

#include "core/unique_fd.hpp"

namespace lxcdn::demo {

namespace {

using clock_type = std::chrono::steady_clock;

struct running_child {
  const child_spec* spec = nullptr;
  pid_t pid = -1;          // -1 once reaped
  unique_fd out;           // read end of its stdout
  std::string pending;     // partial line
  std::vector<std::string> urls;
  int status = 0;          // wait status once reaped
};

std::string describe(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") + ::strsignal(WTERMSIG(status));
  }
  return "stopped";
}

// Forks and executes `spec`. The child gets the original signal mask back, our pipe as stdout,
// a process group of its own and SIGTERM when we die. Returns false (errno set) if no process could be made.
bool start_child(running_child& c, const sigset_t& original_mask) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  unique_fd read_end(fds[0]);
  unique_fd write_end(fds[1]);
  std::vector<char*> argv;
  for (const auto& a : c.spec->argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(1);
    }
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop the children.
    ::setpgid(0, 0);
    ::dup2(write_end.get(), STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    ::execv(argv[0], argv.data());
    const char msg[] = "lxcdn demo: cannot execute the child process\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  c.pid = pid;
  c.out = std::move(read_end);
  return true;
}

// Reads what is available from the child's stdout; collects listening lines. Returns false at
// end of file.
bool read_output(running_child& c) {
  char buf[4096];
  ssize_t n = ::read(c.out.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return true;
  }
  if (n <= 0) {
    c.out.reset();
    return false;
  }
  c.pending.append(buf, static_cast<std::size_t>(n));
  for (auto nl = c.pending.find('\n'); nl != std::string::npos; nl = c.pending.find('\n')) {
    if (auto url = listening_url(std::string_view(c.pending).substr(0, nl))) {
      c.urls.push_back(*url);
    }
    c.pending.erase(0, nl + 1);
  }
  return true;
}

// Reaps every child that has exited. Returns the first one that had not been reaped before.
running_child* reap(std::vector<running_child>& children) {
  running_child* first = nullptr;
  for (auto& c : children) {
    if (c.pid > 0) {
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
        c.pid = -1;
        c.status = status;
        if (!first) {
          first = &c;
        }
      }
    }
  }
  return first;
}

class supervisor {
 public:
  supervisor() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &mask, &original_mask_);
    signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~supervisor() { ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr); }

  // What woke us: a stop signal (true) or something else (false).
  bool stop_requested() {
    signalfd_siginfo info{};
    bool stop = false;
    while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
      stop = stop || info.ssi_signo == SIGINT || info.ssi_signo == SIGTERM;
    }
    return stop;
  }

  // Waits for a signal or child output until `deadline` (none: forever). Returns false on timeout.
  bool wait(std::vector<running_child>& children,
            std::optional<clock_type::time_point> deadline) {
    std::vector<pollfd> fds{{signals_.get(), POLLIN, 0}};
    std::vector<running_child*> owners{nullptr};
    for (auto& c : children) {
      if (c.out) {
        fds.push_back({c.out.get(), POLLIN, 0});
        owners.push_back(&c);
      }
    }
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline -
                                                                        clock_type::now());
      timeout = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
    }
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n == 0) {
      return false;
    }
    for (std::size_t i = 1; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents) {
        read_output(*owners[i]);
      }
    }
    return true;
  }

  const sigset_t& original_mask() const { return original_mask_; }

 private:
  sigset_t original_mask_{};
  unique_fd signals_;
};

// SIGTERM to every child still running, then wait for all; SIGKILL after `timeout`.
void stop_all(supervisor& sv, std::vector<running_child>& children,
              std::chrono::milliseconds timeout) {
  for (auto& c : children) {
    if (c.pid > 0) {
      ::kill(c.pid, SIGTERM);
    }
  }
  const auto deadline = clock_type::now() + timeout;
  bool killed = false;
  for (;;) {
    reap(children);
    if (std::ranges::none_of(children, [](const auto& c) { return c.pid > 0; })) {
      return;
    }
    if (!sv.wait(children, killed ? std::nullopt : std::optional(deadline))) {
      for (auto& c : children) {
        if (c.pid > 0) {
          std::cerr << "lxcdn demo: " << c.spec->name << " did not stop in time; killing it\n";
          ::kill(c.pid, SIGKILL);
        }
      }
      killed = true;
    }
    sv.stop_requested();  // drain; a second Ctrl-C changes nothing
  }
}

}  // namespace

std::optional<std::string> listening_url(std::string_view line) {
  constexpr std::string_view marker = " listening on ";
  auto at = line.find(marker);
  if (!line.starts_with("lxcdn ") || at == std::string_view::npos) {
    return std::nullopt;
  }
  auto url = line.substr(at + marker.size());
  while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) {
    url.remove_suffix(1);
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return std::nullopt;
  }
  return std::string(url);
}

int supervise(const std::vector<child_spec>& specs,
              const std::function<void(const std::vector<std::vector<std::string>>&)>& on_ready,
              supervise_limits limits) {
  supervisor sv;
  std::vector<running_child> children;
  children.reserve(specs.size());
  auto fail = [&](const std::string& why) {
    std::cerr << "lxcdn demo: " << why << "; stopping\n";
    stop_all(sv, children, limits.stop_timeout);
    return 1;
  };

  for (const auto& spec : specs) {
    auto& c = children.emplace_back();
    c.spec = &spec;
    if (!start_child(c, sv.original_mask())) {
      return fail("cannot start the " + spec.name + ": " + std::strerror(errno));
    }
    const auto deadline = clock_type::now() + limits.ready_timeout;
    while (c.urls.size() < spec.listeners) {
      bool woke = sv.wait(children, deadline);
      if (sv.stop_requested()) {
        stop_all(sv, children, limits.stop_timeout);
        return 0;
      }
      if (auto* gone = reap(children)) {
        return fail("the " + gone->spec->name + " " + describe(gone->status));
      }
      if (!woke) {
        return fail("the " + spec.name + " did not start listening within " +
                    std::to_string(limits.ready_timeout.count() / 1000) + " s");
      }
    }
  }

  std::vector<std::vector<std::string>> urls;
  for (const auto& c : children) {
    urls.push_back(c.urls);
  }
  on_ready(urls);

  for (;;) {
    sv.wait(children, std::nullopt);
    if (sv.stop_requested()) {
      stop_all(sv, children, limits.stop_timeout);
      return 0;
    }
    if (auto* gone = reap(children)) {
      return fail("the " + gone->spec->name + " " + describe(gone->status));
    }
  }
}

}  // namespace lxcdn::demo
