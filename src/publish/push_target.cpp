#include "publish/push_target.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "demo/tool_runner.hpp"
#include "publish/fs_ops.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// The steps that differ between a local directory and a node reached over ssh.
class node {
 public:
  explicit node(const std::string& target) {
    if (is_remote_target(target)) {
      auto colon = target.find(':');
      host_ = target.substr(0, colon);
      path_ = target.substr(colon + 1);
    } else {
      path_ = target;
    }
  }

  std::string rsync_destination(const std::string& rel) const {
    return (host_.empty() ? "" : host_ + ":") + (fs::path(path_) / rel).string() + "/";
  }

  void make_generations_dir() const {
    if (host_.empty()) {
      fs::create_directories(fs::path(path_) / "generations");
    } else {
      ssh("mkdir -p " + shell_quote(path_ + "/generations"));
    }
  }

  std::string current() const {
    if (host_.empty()) {
      return read_link(fs::path(path_) / "current").value_or("");
    }
    auto out = ssh("readlink " + shell_quote(path_ + "/current") + " || true");
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    return out;
  }

  bool has_generation(const std::string& id) const {
    if (host_.empty()) {
      std::error_code ec;
      return fs::is_directory(fs::path(path_) / "generations" / id, ec);
    }
    return ssh("test -d " + shell_quote(path_ + "/generations/" + id) + " && echo yes || true")
        .starts_with("yes");
  }

  void finish_transfer(const std::string& id) const {
    auto partial = "generations/" + id + ".partial";
    auto done = "generations/" + id;
    if (host_.empty()) {
      fs::rename(fs::path(path_) / partial, fs::path(path_) / done);
    } else {
      ssh("mv -T " + shell_quote(path_ + "/" + partial) + " " + shell_quote(path_ + "/" + done));
    }
  }

  void switch_to(const std::string& id) const {
    if (host_.empty()) {
      replace_symlink(fs::path(path_) / "current", "generations/" + id);
    } else {
      auto tmp = shell_quote(path_ + "/.current.tmp");
      ssh("ln -sfn " + shell_quote("generations/" + id) + " " + tmp + " && mv -T " + tmp + " " +
          shell_quote(path_ + "/current"));
    }
  }

  std::vector<std::string> generations() const {
    std::vector<std::string> out;
    if (host_.empty()) {
      std::error_code ec;
      for (fs::directory_iterator it(fs::path(path_) / "generations", ec), end; !ec && it != end;
           it.increment(ec)) {
        out.push_back(it->path().filename().string());
      }
    } else {
      auto text = ssh("ls -1 " + shell_quote(path_ + "/generations"));
      std::size_t start = 0;
      while (start < text.size()) {
        auto nl = text.find('\n', start);
        out.push_back(text.substr(start, nl - start));
        start = nl == std::string::npos ? text.size() : nl + 1;
      }
    }
    std::ranges::sort(out);
    return out;
  }

  void remove_generation(const std::string& name) const {
    if (host_.empty()) {
      remove_tree(fs::path(path_) / "generations" / name);
    } else {
      ssh("rm -rf " + shell_quote(path_ + "/generations/" + name));
    }
  }

 private:
  std::string ssh(const std::string& command) const {
    return demo::run_tool(demo::require_tool("ssh", "openssh-client"),
                          {"-o", "BatchMode=yes", host_, command});
  }

  std::string host_;  // empty: local
  std::string path_;
};

}  // namespace

bool is_remote_target(const std::string& target) {
  auto colon = target.find(':');
  auto slash = target.find('/');
  return colon != std::string::npos && (slash == std::string::npos || colon < slash);
}

push_result push_generation(const std::string& target, const fs::path& generation,
                            const std::string& id, const fs::path& rsync, unsigned keep) {
  push_result r;
  r.target = target;
  node n(target);
  std::string before;
  try {
    n.make_generations_dir();
    before = n.current();
    auto serving = before.empty() ? std::string("nothing") : before;
    if (before != "generations/" + id) {
      if (!n.has_generation(id)) {
        // Two passes. images/ with --link-dest: a published file's path never gets other bytes
        // (a serial is never republished, SHA256SUMS and deltas are written with their build),
        // so rsync's quick check (size and mtime) may link it from the node's generation. The
        // index files are rewritten every run and often keep their size; written within the same
        // second, the quick check would link the previous run's index, so they travel whole
        // (small: the index, its signatures and the legacy index).
        std::vector<std::string> images{"-a", "--delete", "--exclude=/.lxcdn-publish/",
                                        "--exclude=/streams/", "--exclude=/meta/"};
        if (before.starts_with("generations/") && n.has_generation(before.substr(12))) {
          images.push_back("--link-dest=../" + before.substr(12));
        }
        images.push_back(generation.string() + "/");
        images.push_back(n.rsync_destination("generations/" + id + ".partial"));
        std::vector<std::string> index{"-a",
                                       "--delete",
                                       "--whole-file",
                                       "--ignore-times",
                                       "--include=/streams/",
                                       "--include=/meta/",
                                       "--include=/streams/**",
                                       "--include=/meta/**",
                                       "--exclude=*"};
        index.push_back(generation.string() + "/");
        index.push_back(n.rsync_destination("generations/" + id + ".partial"));
        try {
          auto tool = demo::require_tool(rsync.string(), "rsync");
          demo::run_tool(tool, images);
          demo::run_tool(tool, index);
        } catch (const std::exception& e) {
          r.message = std::string("push failed: ") + e.what() + "; still serving " + serving;
          return r;
        }
        n.finish_transfer(id);
        r.transferred = true;
      }
      n.switch_to(id);
    }
    r.ok = true;
    r.message = before == "generations/" + id ? "already serving " + id : "switched to " + id;
  } catch (const std::exception& e) {
    auto now = n.current();
    r.ok = false;
    r.message = std::string("failed: ") + e.what() + "; serving " + (now.empty() ? "nothing" : now);
    return r;
  }
  try {
    auto all = n.generations();
    std::vector<std::string> complete;
    for (const auto& g : all) {
      if (g.ends_with(".partial")) {
        n.remove_generation(g);
      } else {
        complete.push_back(g);
      }
    }
    if (complete.size() > keep) {
      for (std::size_t i = 0; i + keep < complete.size(); ++i) {
        if ("generations/" + complete[i] != "generations/" + id) {
          n.remove_generation(complete[i]);
        }
      }
    }
  } catch (const std::exception& e) {
    r.message += std::string(" (pruning old generations failed: ") + e.what() + ")";
  }
  return r;
}

}  // namespace lxcdn::publish
