#include "publish/ingest.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "publish/signer.hpp"
#include "publish/validate_build.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;

ingest_verdict decide_ingest(const incoming_facts& f) {
  if (!f.complete) {
    return {ingest_action::skip, std::string("incomplete: no ") + complete_marker +
                                     " marker yet (the build job writes it last)"};
  }
  if (!f.identity.id) {
    return {ingest_action::skip, f.identity.problem};
  }
  if (f.lxc_only) {
    return {ingest_action::skip,
            "LXC-only build (meta.tar.xz + rootfs.tar.xz, no incus.tar.xz or lxd.tar.xz): builds "
            "reach the legacy LXC index only beside LXD/Incus metadata"};
  }
  if (!f.selection.skip_reason.empty()) {
    return {ingest_action::skip, f.selection.skip_reason};
  }
  if (f.validation_required && !f.validated) {
    return {ingest_action::skip, std::string("not validated: no ") + validated_marker +
                                     " marker (run lxcdn validate, or let the test stage write it)"};
  }
  if (f.published == already_published::same_files) {
    return {ingest_action::remove_published, "already published from these files"};
  }
  if (f.published == already_published::other_files) {
    return {ingest_action::skip,
            "serial " + f.identity.id->serial +
                " is already published with other files (a serial is never republished)"};
  }
  return {ingest_action::take, ""};
}

bool validation_required_for(const std::vector<std::string>& required, const std::string& os) {
  return std::ranges::any_of(required, [&](const std::string& r) { return r == "*" || r == os; });
}

std::string published_name(const std::string& incoming_name) {
  return incoming_name == "lxd.tar.xz" ? "incus.tar.xz" : incoming_name;
}

namespace {

std::vector<fs::path> subdirectories(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.starts_with(".")) {
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      out.push_back(it->path());
    }
  }
  if (ec) {
    throw publish_error("cannot list " + dir.string() + ": " + ec.message());
  }
  std::ranges::sort(out);
  return out;
}

simplestreams::entry_type type_of(const fs::directory_entry& e) {
  std::error_code ec;
  if (e.is_symlink(ec)) {
    return simplestreams::entry_type::symlink;
  }
  return e.is_regular_file(ec) ? simplestreams::entry_type::regular
                               : simplestreams::entry_type::other;
}

std::uint64_t inode_of(const fs::path& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

incoming_build examine(const fs::path& incoming, const fs::path& dir,
                       const std::vector<std::string>& validation_required,
                       const fs::path& previous_generation, const build_set& published_builds) {
  incoming_build b;
  b.dir = dir;
  auto& f = b.facts;
  f.rel = dir.lexically_relative(incoming).string();
  f.identity = identity_from_path(f.rel);
  std::map<std::string, simplestreams::entry_type> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.emplace(it->path().filename().string(), type_of(*it));
  }
  f.complete = entries.contains(complete_marker);
  f.validated = entries.contains(validated_marker);
  f.selection = simplestreams::select_build_files(entries);
  auto regular = [&](const char* n) {
    auto it = entries.find(n);
    return it != entries.end() && it->second == simplestreams::entry_type::regular;
  };
  f.lxc_only = !f.selection.skip_reason.empty() && regular("meta.tar.xz") &&
               regular("rootfs.tar.xz") && !entries.contains("incus.tar.xz") &&
               !entries.contains("lxd.tar.xz");
  if (f.identity.id) {
    f.validation_required = validation_required_for(validation_required, f.identity.id->os);
    if (!previous_generation.empty() && f.selection.skip_reason.empty() &&
        published_builds.contains(f.identity.id->path())) {
      auto published = previous_generation / "images" / f.identity.id->path();
      if (fs::exists(published, ec)) {
        bool same = inode_of(dir / f.selection.metadata) ==
                    inode_of(published / published_name(f.selection.metadata));
        for (auto kind : f.selection.roots) {
          auto name = std::string(simplestreams::format_of(kind).file_name);
          same = same && inode_of(dir / name) == inode_of(published / name) &&
                 inode_of(dir / name) != 0;
        }
        f.published = same ? already_published::same_files : already_published::other_files;
      }
    }
  }
  b.verdict = decide_ingest(f);
  return b;
}

}  // namespace

std::vector<incoming_build> scan_incoming(const fs::path& incoming,
                                          const std::vector<std::string>& validation_required,
                                          const fs::path& previous_generation,
                                          const build_set& published_builds) {
  std::vector<incoming_build> out;
  std::error_code ec;
  if (!fs::is_directory(incoming, ec)) {
    throw publish_error("incoming " + incoming.string() + " is not a directory");
  }
  for (const auto& os : subdirectories(incoming)) {
    for (const auto& release : subdirectories(os)) {
      for (const auto& arch : subdirectories(release)) {
        for (const auto& variant : subdirectories(arch)) {
          for (const auto& serial : subdirectories(variant)) {
            out.push_back(examine(incoming, serial, validation_required, previous_generation,
                                  published_builds));
          }
        }
      }
    }
  }
  return out;
}

}  // namespace lxcdn::publish
