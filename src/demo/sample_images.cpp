#include "demo/sample_images.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <stdexcept>

namespace lxcdn::demo {

namespace {

// distrobuilder's default is 30 days; the demo's serial is fixed (reproducible bytes), so its
// images get ten years, lest LXD's cache pruning treat them as expired a month after that date.
constexpr std::int64_t expiry_after_seconds = 3650LL * 24 * 3600;

// A YAML double-quoted scalar (our values are short ASCII; escape the two special characters).
std::string yaml_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string description(const image_spec& image) {
  std::string d = "BusyBox " + image.release + " " + image.arch + " (" + image.variant + ") (" +
                  image.serial + ")";
  if (!image.note.empty()) {
    d += " " + image.note;
  }
  return d;
}

const char* const inittab =
    "# BusyBox init as PID 1 of a container. LXC has mounted /proc, /sys and /dev already.\n"
    "::sysinit:/bin/mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run\n"
    "::sysinit:/bin/mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp\n"
    "# `lxc console NAME` gets a shell after Enter.\n"
    "::askfirst:-/bin/sh\n"
    "::ctrlaltdel:/sbin/reboot\n"
    "::shutdown:/bin/sync\n";

}  // namespace

std::vector<image_spec> demo_images(std::int64_t build_time) {
  const std::string serial = format_serial(build_time);
  image_spec base{.os = "busybox",
                  .release = "1.35",
                  .arch = "amd64",
                  .variant = "default",
                  .serial = serial,
                  .creation_date = build_time,
                  .applets = applet_set::all,
                  .note = ""};
  image_spec arm64 = base;
  arm64.arch = "arm64";
  arm64.note = "[demo listing only: holds the amd64 binary]";
  image_spec tiny = base;
  tiny.variant = "tiny";
  tiny.applets = applet_set::tiny;
  return {base, arm64, tiny};
}

std::string format_serial(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) {
    throw std::invalid_argument("time out of range: " + std::to_string(unix_seconds));
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H:%M", &tm);
  return buf;
}

std::string kernel_architecture(std::string_view debian_arch) {
  static const std::map<std::string, std::string, std::less<>> names{
      {"amd64", "x86_64"},    {"arm64", "aarch64"}, {"armhf", "armv7l"},   {"i386", "i686"},
      {"ppc64el", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}};
  auto it = names.find(debian_arch);
  if (it == names.end()) {
    throw std::invalid_argument("no kernel architecture name for '" + std::string(debian_arch) +
                                "'");
  }
  return it->second;
}

std::filesystem::path image_directory(const std::filesystem::path& www, const image_spec& image) {
  return www / "images" / image.os / image.release / image.arch / image.variant / image.serial;
}

std::string render_metadata_yaml(const image_spec& image) {
  std::string y;
  y += "architecture: " + yaml_quoted(kernel_architecture(image.arch)) + "\n";
  y += "creation_date: " + std::to_string(image.creation_date) + "\n";
  y += "expiry_date: " + std::to_string(image.creation_date + expiry_after_seconds) + "\n";
  y += "properties:\n";
  y += "  architecture: " + yaml_quoted(image.arch) + "\n";
  y += "  description: " + yaml_quoted(description(image)) + "\n";
  y += "  name: " +
       yaml_quoted(image.os + "-" + image.release + "-" + image.arch + "-" + image.variant + "-" +
                   image.serial) +
       "\n";
  y += "  os: " + yaml_quoted(image.os) + "\n";
  y += "  release: " + yaml_quoted(image.release) + "\n";
  y += "  serial: " + yaml_quoted(image.serial) + "\n";
  y += "  variant: " + yaml_quoted(image.variant) + "\n";
  y += "templates:\n";
  for (const auto& [target, tpl] :
       {std::pair{"/etc/hostname", "hostname.tpl"}, std::pair{"/etc/hosts", "hosts.tpl"}}) {
    y += std::string("  ") + target + ":\n";
    y += "    when:\n    - create\n    - copy\n";
    y += "    create_only: false\n";
    y += std::string("    template: ") + tpl + "\n";
    y += "    properties: {}\n";
  }
  return y;
}

std::vector<text_file> metadata_templates() {
  return {
      {"templates/hostname.tpl", "{{ container.name }}\n"},
      {"templates/hosts.tpl",
       "127.0.0.1   localhost\n"
       "127.0.1.1   {{ container.name }}\n"
       "::1         localhost ip6-localhost ip6-loopback\n"},
  };
}

const std::vector<std::string>& tiny_applets() {
  static const std::vector<std::string> applets{
      "bin/ash",   "bin/cat",   "bin/echo",      "bin/hostname", "bin/kill",
      "bin/ls",    "bin/mkdir", "bin/mount",     "bin/ps",       "bin/rm",
      "bin/sh",    "bin/sleep", "bin/sync",      "bin/umount",   "bin/uname",
      "sbin/halt", "sbin/init", "sbin/poweroff", "sbin/reboot",  "usr/bin/id"};
  return applets;
}

std::vector<rootfs_entry> rootfs_entries(const image_spec& image,
                                         const std::vector<std::string>& host_applets,
                                         const std::filesystem::path& busybox_path) {
  using kind = rootfs_entry::kind;
  std::map<std::string, rootfs_entry> entries;
  auto dir = [&](const std::string& p, unsigned mode = 0755) {
    entries[p] = rootfs_entry{kind::directory, p, mode, ""};
  };
  auto file = [&](const std::string& p, std::string content, unsigned mode = 0644) {
    entries[p] = rootfs_entry{kind::file, p, mode, std::move(content)};
  };

  for (const char* d : {"bin", "dev", "etc", "proc", "root", "run", "sbin", "sys", "tmp", "usr",
                        "usr/bin", "usr/sbin", "var", "var/log"}) {
    dir(d);
  }
  entries["root"].mode = 0700;
  entries["tmp"].mode = 01777;
  entries["bin/busybox"] =
      rootfs_entry{kind::host_file, "bin/busybox", 0755, busybox_path.string()};

  std::set<std::string> wanted;
  if (image.applets == applet_set::tiny) {
    wanted.insert(tiny_applets().begin(), tiny_applets().end());
  }
  for (const auto& applet : host_applets) {
    auto slash = applet.rfind('/');
    if (slash == std::string::npos || applet == "bin/busybox" ||
        (!wanted.empty() && wanted.count(applet) == 0)) {
      continue;
    }
    for (auto p = applet.find('/'); p != std::string::npos; p = applet.find('/', p + 1)) {
      if (entries.count(applet.substr(0, p)) == 0) {
        dir(applet.substr(0, p));
      }
    }
    entries[applet] = rootfs_entry{kind::symlink, applet, 0777, "/bin/busybox"};
  }
  for (const char* needed : {"sbin/init", "bin/sh"}) {
    if (entries.count(needed) == 0) {
      throw std::invalid_argument(std::string("busybox does not provide ") + needed);
    }
  }

  file("etc/inittab", inittab);
  file("etc/passwd",
       "root:x:0:0:root:/root:/bin/sh\n"
       "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  file("etc/group", "root:x:0:\nnogroup:x:65534:\n");
  file("etc/shadow", "root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n", 0640);
  file("etc/hostname", image.os + "\n");
  file("etc/hosts", "127.0.0.1   localhost\n::1         localhost ip6-localhost ip6-loopback\n");
  file("etc/os-release", "NAME=\"BusyBox\"\nID=" + image.os + "\nVERSION_ID=\"" + image.release +
                             "\"\nVARIANT_ID=" + image.variant + "\nPRETTY_NAME=\"BusyBox " +
                             image.release + " (lxcdn demo)\"\n");
  file("etc/profile", "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n");

  std::vector<rootfs_entry> out;
  out.reserve(entries.size());
  for (auto& [path, entry] : entries) {
    out.push_back(std::move(entry));
  }
  return out;  // std::map order: "a" < "a/b", so parents come first
}

std::vector<std::string> parse_applet_list(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    auto line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      lines.emplace_back(line);
    }
    start = end + 1;
  }
  return lines;
}

}  // namespace lxcdn::demo
