#include "publish/push_target.hpp"

#include <unistd.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

#include "demo/tool_runner.hpp"
#include "publish/fs_ops.hpp"
#include "publish/pool_layout.hpp"
#include "publish/signer.hpp"

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

// The steps that differ between a local directory and a node reached over ssh. Paths are
// relative to the node's served root (<target>/current).
class node {
 public:
  explicit node(const std::string& target) {
    if (is_remote_target(target)) {
      auto colon = target.find(':');
      host_ = target.substr(0, colon);
      base_ = target.substr(colon + 1);
    } else {
      base_ = target;
    }
  }

  // rsync's destination for `rel` below the served root.
  std::string destination(const std::string& rel) const {
    return (host_.empty() ? "" : host_ + ":") + (root() / rel).string() + "/";
  }

  void prepare() const {
    if (host_.empty()) {
      prepare_layout(base_);
      return;
    }
    auto r = shell_quote(root().string());
    ssh("if [ -L " + r + " ]; then echo 'old layout (current is a symlink): not converted over "
        "ssh; see docs/publish.md, Migration' >&2; exit 1; fi; mkdir -p " + r +
        "/images " + r + "/.generations && ln -sfn .generation/streams " + r +
        "/streams && ln -sfn .generation/meta " + r + "/meta");
  }

  std::string served() const {
    if (host_.empty()) {
      return served_generation(pool_layout(base_));
    }
    auto out = ssh("readlink " + shell_quote((root() / ".generation").string()) + " || true");
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    return out.starts_with(".generations/") ? out.substr(13) : "";
  }

  // Removes what a killed push left, and an unswitched copy of `id`.
  void clear_leftovers(const std::string& id) const {
    std::vector<std::string> rels{".staging", ".generations/" + id + ".partial",
                                  ".generations/" + id};
    remove(rels);
  }

  void remove(const std::vector<std::string>& rels) const {
    if (rels.empty()) {
      return;
    }
    if (host_.empty()) {
      for (const auto& r : rels) {
        remove_tree(root() / r);
      }
      return;
    }
    std::string cmd = "rm -rf";
    for (const auto& r : rels) {
      cmd += " " + shell_quote((root() / r).string());
    }
    ssh(cmd);
  }

  // Renames .staging/<b> to images/<b> for each build, removing a directory at the final name.
  void place(const std::vector<std::string>& builds) const {
    if (host_.empty()) {
      for (const auto& b : builds) {
        auto final_dir = root() / "images" / b;
        remove_tree(final_dir);
        fs::create_directories(final_dir.parent_path());
        rename_path(root() / ".staging" / b, final_dir);
      }
      return;
    }
    std::string cmd = "set -e";
    for (const auto& b : builds) {
      auto from = shell_quote((root() / ".staging" / b).string());
      auto to = shell_quote((root() / "images" / b).string());
      cmd += "; rm -rf " + to + "; mkdir -p \"$(dirname " + to + ")\"; mv -T " + from + " " + to;
    }
    ssh(cmd);
  }

  void finish_generation(const std::string& id) const {
    auto from = root() / ".generations" / (id + ".partial");
    auto to = root() / ".generations" / id;
    if (host_.empty()) {
      rename_path(from, to);
    } else {
      ssh("mv -T " + shell_quote(from.string()) + " " + shell_quote(to.string()));
    }
  }

  void switch_to(const std::string& id) const {
    if (host_.empty()) {
      switch_generation(pool_layout(base_), id);
    } else {
      auto tmp = shell_quote((root() / ".generation.tmp").string());
      ssh("ln -sfn " + shell_quote(pointer_target(id)) + " " + tmp + " && mv -T " + tmp + " " +
          shell_quote((root() / ".generation").string()));
    }
  }

  std::vector<std::string> generations() const {
    std::vector<std::string> out;
    if (host_.empty()) {
      std::error_code ec;
      for (fs::directory_iterator it(root() / ".generations", ec), end; !ec && it != end;
           it.increment(ec)) {
        out.push_back(it->path().filename().string());
      }
    } else {
      auto text = ssh("ls -1 " + shell_quote((root() / ".generations").string()));
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

 private:
  fs::path root() const { return fs::path(base_) / "current"; }

  std::string ssh(const std::string& command) const {
    return demo::run_tool(demo::require_tool("ssh", "openssh-client"),
                          {"-o", "BatchMode=yes", host_, command});
  }

  std::string host_;  // empty: local
  std::string base_;
};

// rsync --stats: "Number of regular files transferred: 1,234".
std::size_t files_transferred(const std::string& stats) {
  static const std::regex re(R"(Number of regular files transferred: ([0-9,]+))");
  std::smatch m;
  if (!std::regex_search(stats, m, re)) {
    return 0;
  }
  auto digits = m[1].str();
  std::erase(digits, ',');
  return std::stoul(digits);
}

// A file listing `builds` one per line, for rsync --files-from; removed on destruction.
class list_file {
 public:
  explicit list_file(const std::vector<std::string>& builds) {
    char name[] = "/tmp/lxcdn-publish-files-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) {
      throw publish_error("cannot create a temporary file in /tmp");
    }
    ::close(fd);
    path_ = name;
    std::string text;
    for (const auto& b : builds) {
      text += b + "\n";
    }
    write_new_file(path_, text);
  }
  ~list_file() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  list_file(const list_file&) = delete;
  list_file& operator=(const list_file&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

bool is_remote_target(const std::string& target) {
  auto colon = target.find(':');
  auto slash = target.find('/');
  return colon != std::string::npos && (slash == std::string::npos || colon < slash);
}

push_result push_generation(const std::string& target, const push_source& src) {
  push_result r;
  r.target = target;
  node n(target);
  std::string before;
  const generation_state* before_state = nullptr;
  try {
    n.prepare();
    before = n.served();
    auto serving = before.empty() ? std::string("nothing") : before;
    if (before != src.id) {
      n.clear_leftovers(src.id);
      if (!before.empty()) {
        before_state = src.state_of(before);
      }
      auto tool = demo::require_tool(src.rsync.string(), "rsync");
      try {
        if (before_state) {
          std::vector<std::string> lacking;
          for (const auto& [b, retired] : src.state->builds) {
            if (!before_state->builds.contains(b)) {
              lacking.push_back(b);
            }
          }
          if (!lacking.empty()) {
            list_file list(lacking);
            auto stats = demo::run_tool(
                tool, {"-a", "-r", "--stats", "--files-from=" + list.path().string(),
                       (src.root / "images").string() + "/", n.destination(".staging")});
            r.files_sent = files_transferred(stats);
            r.builds_sent = lacking.size();
          }
          // The generation: a fresh directory, so rsync's quick check never keeps an older file.
          demo::run_tool(tool, {"-a", "--exclude=/.lxcdn-publish/state",
                                (src.root / ".generations" / src.id).string() + "/",
                                n.destination(".generations/" + src.id + ".partial")});
          n.place(lacking);
        } else {
          // A new node, or one serving a generation this publisher no longer holds: the whole
          // pool, into place (a build directory never gets other bytes under the same name; the
          // node's generation lists none of what is new), no deletion.
          auto stats = demo::run_tool(tool, {"-a", "--stats", (src.root / "images").string() + "/",
                                             n.destination("images")});
          r.files_sent = files_transferred(stats);
          r.builds_sent = src.state->builds.size();
          demo::run_tool(tool, {"-a", "--exclude=/.lxcdn-publish/state",
                                (src.root / ".generations" / src.id).string() + "/",
                                n.destination(".generations/" + src.id + ".partial")});
        }
        n.finish_generation(src.id);
      } catch (const std::exception& e) {
        r.message = std::string("push failed: ") + e.what() + "; still serving " + serving;
        return r;
      }
      r.transferred = true;
      n.switch_to(src.id);
    }
    r.ok = true;
    r.message = before == src.id ? "already serving " + src.id : "switched to " + src.id;
    if (r.transferred) {
      r.message += " (" + std::to_string(r.builds_sent) + " builds sent, " +
                   std::to_string(r.files_sent) + " files transferred)";
    }
  } catch (const std::exception& e) {
    auto now = n.served();
    r.ok = false;
    r.message = std::string("failed: ") + e.what() + "; serving " + (now.empty() ? "nothing" : now);
    return r;
  }
  try {
    // Builds the node serves no more: only now that its pointer names a generation without them.
    std::set<std::string> drop(src.dropped.begin(), src.dropped.end());
    if (before_state) {
      for (const auto& [b, retired] : before_state->builds) {
        drop.insert(b);
      }
    }
    std::vector<std::string> rels;
    for (const auto& b : drop) {
      if (!src.state->builds.contains(b)) {
        rels.push_back("images/" + b);
      }
    }
    n.remove(rels);
    if (r.transferred && !before.empty() && !before_state) {
      // After a whole-pool push: what the publisher's pool no longer holds. --existing and
      // --ignore-existing together transfer nothing; --delete still removes the extra files.
      demo::run_tool(demo::require_tool(src.rsync.string(), "rsync"),
                     {"-a", "--delete", "--existing", "--ignore-existing",
                      (src.root / "images").string() + "/", n.destination("images")});
    }
    std::vector<std::string> old;
    std::vector<std::string> complete;
    for (const auto& g : n.generations()) {
      (g.ends_with(".partial") || g > src.id ? old : complete).push_back(g);
    }
    for (std::size_t i = 0; i + src.keep < complete.size(); ++i) {
      if (complete[i] != src.id) {
        old.push_back(complete[i]);
      }
    }
    for (auto& g : old) {
      g = ".generations/" + g;
    }
    old.push_back(".staging");
    n.remove(old);
  } catch (const std::exception& e) {
    r.message += std::string(" (removing old builds or generations failed: ") + e.what() + ")";
  }
  return r;
}

}  // namespace lxcdn::publish
