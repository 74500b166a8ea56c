#include "publish/run_publish.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/unique_fd.hpp"
#include "demo/tool_runner.hpp"
#include "publish/fs_ops.hpp"
#include "publish/generation_state.hpp"
#include "publish/hash_cache.hpp"
#include "publish/ingest.hpp"
#include "publish/legacy_index.hpp"
#include "publish/product_policy.hpp"
#include "publish/progress.hpp"
#include "publish/push_target.hpp"
#include "publish/retention.hpp"
#include "publish/signed_body.hpp"
#include "publish/signer.hpp"
#include "publish/verify_generation.hpp"
#include "simplestreams/fingerprint.hpp"
#include "simplestreams/gzip.hpp"
#include "simplestreams/render_json.hpp"
#include "simplestreams/write_index.hpp"

namespace lxcdn::publish {

namespace fs = std::filesystem;
namespace ss = simplestreams;

namespace {

constexpr const char* state_file = ".lxcdn-publish/state";

// The previous generation: its directory and state. A missing or damaged state is rebuilt from
// the tree (every build listed, nothing cached), so a damaged file costs hashing, never builds.
struct previous_generation {
  fs::path dir;  // empty: none yet
  generation_state state;
};

previous_generation read_previous(const fs::path& work, std::ostream& err) {
  previous_generation p;
  auto link = read_link(work / "current");
  if (!link) {
    return p;
  }
  p.dir = work / *link;
  std::string error;
  auto text = read_whole_file(p.dir / state_file);
  if (text) {
    if (auto s = parse_state(*text, error)) {
      p.state = std::move(*s);
      return p;
    }
  }
  err << "lxcdn publish: warning: " << (p.dir / state_file).string() << ": "
      << (text ? error : "missing") << "; rebuilding it from the tree\n";
  p.state.generation = p.dir.filename().string();
  std::error_code ec;
  for (fs::recursive_directory_iterator it(p.dir / "images", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it.depth() == 4 && it->is_directory()) {
      p.state.builds[it->path().lexically_relative(p.dir / "images").string()] = std::nullopt;
      it.disable_recursion_pending();
    }
  }
  return p;
}

// The files of a build directory in the generation, for select_build_files.
std::map<std::string, ss::entry_type> entries_of(const fs::path& dir) {
  std::map<std::string, ss::entry_type> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.emplace(it->path().filename().string(),
                it->is_symlink(ec)        ? ss::entry_type::symlink
                : it->is_regular_file(ec) ? ss::entry_type::regular
                                          : ss::entry_type::other);
  }
  return out;
}

void write_json_and_gzip(const fs::path& path, const std::string& text) {
  write_new_file(path, text);
  write_new_file(fs::path(path.string() + ".gz"), ss::gzip_compress(text));
}

std::string next_generation_id(const std::string& previous) {
  unsigned long n = 0;
  try {
    n = previous.empty() ? 0 : std::stoul(previous);
  } catch (const std::exception&) {
    n = 0;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lu", n + 1);
  return buf;
}

constexpr std::string_view removing_prefix = ".lxcdn-removing-";

// Removes a published build from incoming: renamed aside to a hidden name first (one rename, so
// a run killed half-way through the removal never leaves a half-deleted build that looks like an
// incomplete one), then deleted, then its parents if they became empty.
void remove_incoming(const fs::path& incoming, const fs::path& dir) {
  auto aside = dir.parent_path() / (std::string(removing_prefix) + dir.filename().string());
  fs::rename(dir, aside);
  remove_tree(aside);
  std::error_code ec;
  for (auto p = dir.parent_path(); p != incoming && p.string().size() > incoming.string().size();
       p = p.parent_path()) {
    if (!fs::remove(p, ec)) {  // only empty directories go
      break;
    }
  }
}

// Deletes what killed runs left renamed aside under incoming/<os>/<release>/<arch>/<variant>/.
void sweep_removals(const fs::path& incoming) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(incoming, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() >= 4) {
      it.disable_recursion_pending();
      if (it->path().filename().string().starts_with(removing_prefix)) {
        remove_tree(it->path());
      }
    }
  }
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Logs at debug level how long each phase of a run took (`--log-level debug`).
class phase_timer {
 public:
  void mark(const char* phase) {
    auto now = std::chrono::steady_clock::now();
    spdlog::debug("publish: {} took {:.3f} s", phase,
                  std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

struct summary {
  std::string generation;  // the one every target should now serve
  bool new_generation = false;
  std::vector<std::string> added, retired, deleted, skipped, cleared;
  std::size_t hashed = 0, reused = 0;
  std::uint64_t bytes_hashed = 0;
  double hash_seconds = 0;  // wall time spent hashing
  std::size_t deltas = 0;
  std::vector<push_result> pushes;
};

void print_summary(const summary& s, bool dry_run, std::ostream& out) {
  out << "lxcdn publish: " << (dry_run ? "dry run, would make " : "")
      << (s.new_generation ? "generation " + s.generation
                           : "no change, generation " + (s.generation.empty() ? "none" : s.generation))
      << ": " << s.added.size() << " added, " << s.retired.size() << " retired, "
      << s.deleted.size() << " deleted, " << s.skipped.size() << " skipped; " << s.hashed
      << " builds hashed (" << s.bytes_hashed << " bytes in " << std::fixed
      << std::setprecision(3) << s.hash_seconds << " s), " << s.reused << " reused, "
      << s.deltas << " deltas\n";
  for (const auto& a : s.added) {
    out << "  added   " << a << "\n";
  }
  for (const auto& r : s.retired) {
    out << "  retired " << r << " (left the index; kept on disk for the grace period)\n";
  }
  for (const auto& d : s.deleted) {
    out << "  deleted " << d << " (grace period over)\n";
  }
  for (const auto& k : s.skipped) {
    out << "  skipped " << k << "\n";
  }
  for (const auto& c : s.cleared) {
    out << "  cleared " << c << "\n";
  }
  for (const auto& p : s.pushes) {
    out << "  target  " << p.target << ": " << (p.ok ? "" : "FAILED: ") << p.message << "\n";
  }
  out << std::flush;
}

// An exclusive, non-blocking lock on work/.lock, released on destruction.
class run_lock {
 public:
  explicit run_lock(const fs::path& work) {
    fs::create_directories(work);
    fd_ = unique_fd(::open((work / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_ || ::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      throw publish_error("another lxcdn publish is running (" + (work / ".lock").string() + ")");
    }
  }

 private:
  unique_fd fd_;
};

// A build hashed in incoming (paths relative to incoming) as it is published under `dir`.
ss::build published_digests(ss::build b, const std::string& dir) {
  b.dir = dir;
  b.metadata.path = dir + "/incus.tar.xz";
  for (auto& r : b.roots) {
    r.file.path = dir + "/" + std::string(ss::format_of(r.kind).file_name);
  }
  return b;
}

struct candidate {
  const incoming_build* in = nullptr;
  ss::build hashed;  // paths relative to incoming
};

}  // namespace

int run_publish(const publish_config& c, const publish_options& opt, std::ostream& out,
                std::ostream& err) {
  summary s;
  fs::path partial;
  bool switched = false;
  try {
    signer sign(c.signing);
    std::optional<run_lock> lock;  // a dry run writes nothing, not even the lock file
    if (!opt.dry_run) {
      lock.emplace(c.work);
    }
    progress prog(err, opt.progress);
    const auto now = opt.now();
    auto prev = read_previous(c.work, err);
    s.generation = prev.state.generation;

    phase_timer phases;
    // 3. Ingest.
    auto incoming = scan_incoming(c.incoming, c.validation_required, prev.dir);
    std::vector<candidate> candidates;
    std::vector<const incoming_build*> clear;  // already published: removed from incoming
    for (const auto& b : incoming) {
      switch (b.verdict.action) {
        case ingest_action::take:
          candidates.push_back({&b, {}});
          break;
        case ingest_action::skip:
          s.skipped.push_back(b.facts.rel + ": " + b.verdict.reason);
          break;
        case ingest_action::remove_published:
          clear.push_back(&b);
          break;
      }
    }
    // Fingerprints the index already lists, for the duplicate check.
    std::map<std::string, std::string> fingerprints;  // -> build path
    for (const auto& [paths, sha] : prev.state.combined) {
      auto build = fs::path(paths.first).parent_path().lexically_relative("images").string();
      auto it = prev.state.builds.find(build);
      if (it != prev.state.builds.end() && !it->second) {
        fingerprints.emplace(sha, build);
      }
    }
    std::vector<build_id> accepted;
    std::map<build_id, const candidate*> by_id;
    if (!opt.dry_run) {
      std::size_t i = 0;
      auto started = std::chrono::steady_clock::now();
      for (auto& cand : candidates) {
        prog.step("hashing", ++i, candidates.size(), cand.in->facts.rel);
        cand.hashed = ss::hash_build(c.incoming, cand.in->facts.rel, cand.in->facts.selection);
        ++s.hashed;
        s.bytes_hashed += cand.hashed.metadata.size;
        std::optional<std::string> duplicate;
        for (const auto& r : cand.hashed.roots) {
          s.bytes_hashed += r.file.size;
          if (auto f = fingerprints.find(r.combined_sha256); f != fingerprints.end()) {
            duplicate = "duplicate fingerprint " + r.combined_sha256.substr(0, 12) + " of " +
                        f->second + " (fingerprints must be unique in the index)";
          }
        }
        if (duplicate) {
          s.skipped.push_back(cand.in->facts.rel + ": " + *duplicate);
          continue;
        }
        for (const auto& r : cand.hashed.roots) {
          fingerprints.emplace(r.combined_sha256, cand.in->facts.rel);
        }
        accepted.push_back(*cand.in->facts.identity.id);
        by_id.emplace(accepted.back(), &cand);
      }
      s.hash_seconds += seconds_since(started);
      prog.done();
    } else {
      for (const auto& cand : candidates) {
        accepted.push_back(*cand.in->facts.identity.id);
      }
    }
    phases.mark("ingest and hashing new builds");
    auto plan = plan_retention(prev.state.builds, accepted, c.retention.keep,
                               std::chrono::duration_cast<std::chrono::seconds>(c.retention.grace),
                               now);
    for (const auto& [id, why] : plan.refused) {
      s.skipped.push_back(id.path() + ": " + why);
    }
    for (const auto& id : plan.taken) {
      s.added.push_back(id.path());
    }
    for (const auto& id : plan.retired_now) {
      s.retired.push_back(id.path());
    }
    for (const auto& id : plan.expired) {
      s.deleted.push_back(id.path());
    }
    for (const auto* b : clear) {
      s.cleared.push_back(b->facts.rel + ": " + b->verdict.reason + "; removed from incoming");
    }
    bool changed = !plan.taken.empty() || !plan.retired_now.empty() || !plan.expired.empty() ||
                   prev.dir.empty();
    if (opt.dry_run) {
      s.new_generation = changed;
      s.generation = changed ? next_generation_id(prev.state.generation) : prev.state.generation;
      print_summary(s, true, out);
      return 0;
    }

    // 4. Assemble, verify, switch.
    if (changed) {
      auto id = next_generation_id(prev.state.generation);
      fs::create_directories(c.work / "generations");
      partial = c.work / "generations" / (id + ".partial");
      remove_tree(partial);
      // A run killed between its rename and its switch left a complete <id> nobody points at.
      remove_tree(c.work / "generations" / id);
      fs::create_directories(partial / "images");
      generation_state fresh;
      fresh.generation = id;
      hash_cache cache(prev.state, fresh);
      std::set<build_id> taken(plan.taken.begin(), plan.taken.end());

      // Lay out every build the generation keeps.
      std::vector<build_id> on_disk = plan.listed;
      for (const auto& [id_in_grace, when] : plan.in_grace) {
        on_disk.push_back(id_in_grace);
      }
      for (const auto& b : on_disk) {
        auto dest = partial / "images" / b.path();
        fs::create_directories(dest);
        if (taken.contains(b)) {
          const auto& f = by_id.at(b)->in->facts;
          link_or_copy(by_id.at(b)->in->dir / f.selection.metadata,
                       dest / published_name(f.selection.metadata));
          for (auto kind : f.selection.roots) {
            auto name = std::string(ss::format_of(kind).file_name);
            link_or_copy(by_id.at(b)->in->dir / name, dest / name);
          }
          // LXC's metadata, for the legacy index (with rootfs.tar.xz, a root above).
          auto lxc_meta = by_id.at(b)->in->dir / "meta.tar.xz";
          if (key_of(lxc_meta)) {
            link_or_copy(lxc_meta, dest / "meta.tar.xz");
          }
        } else {
          std::error_code ec;
          for (fs::directory_iterator it(prev.dir / "images" / b.path(), ec), end;
               !ec && it != end; it.increment(ec)) {
            if (it->is_regular_file() && !it->is_symlink()) {
              link_or_copy(it->path(), dest / it->path().filename());
            }
          }
        }
      }

      // Digests of the new builds, computed in incoming, under their published paths.
      std::map<build_id, ss::build> new_builds;
      for (const auto& b : plan.taken) {
        auto built = published_digests(by_id.at(b)->hashed, "images/" + b.path());
        cache.remember(partial, built.metadata);
        for (const auto& r : built.roots) {
          cache.remember(partial, r.file);
          cache.remember_combined(built.metadata.path, r.file.path, r.combined_sha256);
        }
        new_builds.emplace(b, std::move(built));
      }

      phases.mark("laying out (links)");
      // Squashfs deltas from the previous listed serial of the same product.
      std::map<std::string, std::set<std::string>> listed_serials;  // product -> serials
      for (const auto& b : plan.listed) {
        listed_serials[b.product()].insert(b.serial);
      }
      if (c.deltas) {
        auto xdelta3 = demo::require_tool(c.xdelta3.string(), "xdelta3");
        std::size_t i = 0;
        for (const auto& b : plan.taken) {
          prog.step("deltas", ++i, plan.taken.size(), b.path());
          const auto& serials = listed_serials[b.product()];
          auto it = serials.find(b.serial);
          if (it == serials.begin()) {
            continue;
          }
          auto base_serial = *std::prev(it);
          auto base_dir = partial / "images" / b.os / b.release / b.arch / b.variant / base_serial;
          auto new_dir = partial / "images" / b.path();
          if (!fs::exists(base_dir / "rootfs.squashfs") || !fs::exists(new_dir / "rootfs.squashfs")) {
            continue;
          }
          auto delta = new_dir / ("delta-" + base_serial + ".vcdiff");
          demo::run_tool(xdelta3, {"-e", "-f", "-s", (base_dir / "rootfs.squashfs").string(),
                                   (new_dir / "rootfs.squashfs").string(), delta.string()});
          ++s.deltas;
        }
        prog.done();
      }

      phases.mark("deltas");
      // The catalog.
      ss::catalog cat;
      std::vector<build_id> legacy_builds;  // listed builds with meta.tar.xz and rootfs.tar.xz
      std::size_t i = 0;
      auto indexing_started = std::chrono::steady_clock::now();
      for (const auto& b : plan.listed) {
        prog.step("indexing", ++i, plan.listed.size(), b.path());
        auto dir = "images/" + b.path();
        auto entries = entries_of(partial / dir);
        ss::build built;
        if (auto n = new_builds.find(b); n != new_builds.end()) {
          built = n->second;
        } else {
          auto selection = ss::select_build_files(entries);
          if (!selection.skip_reason.empty()) {
            throw publish_error(dir + ": " + selection.skip_reason);
          }
          built = cache.build(partial, dir, selection);
        }
        for (const auto& [name, type] : entries) {
          if (name.starts_with("delta-") && name.ends_with(".vcdiff") &&
              type == ss::entry_type::regular) {
            auto base = name.substr(6, name.size() - 6 - 7);
            if (listed_serials[b.product()].contains(base)) {
              built.deltas.push_back({base, cache.file(partial, dir + "/" + name)});
            }
          }
        }
        bool legacy = entries.contains("meta.tar.xz") && entries.contains("rootfs.tar.xz");
        std::string lxc_meta_sha;
        if (legacy) {
          legacy_builds.push_back(b);
          lxc_meta_sha = cache.file(partial, dir + "/meta.tar.xz").sha256;  // cached after once
        }
        if (taken.contains(b)) {
          std::string sums;
          std::map<std::string, std::string> files;  // name -> sha
          files.emplace("incus.tar.xz", built.metadata.sha256);
          if (legacy) {
            files.emplace("meta.tar.xz", lxc_meta_sha);
          }
          for (const auto& r : built.roots) {
            files.emplace(std::string(ss::format_of(r.kind).file_name), r.file.sha256);
          }
          for (const auto& d : built.deltas) {
            files.emplace(fs::path(d.file.path).filename().string(), d.file.sha256);
          }
          for (const auto& [name, sha] : files) {
            sums += sha + "  " + name + "\n";
          }
          write_new_file(partial / dir / "SHA256SUMS", sums);
        }
        auto& p = cat.products[b.product()];
        p.os = b.os;
        p.release = b.release;
        p.arch = b.arch;
        p.variant = b.variant;
        p.aliases = product_aliases(c.aliases, b.os, b.release, b.variant);
        p.requirements = product_requirements(c.requirements, b.os, b.release, b.variant);
        p.versions.emplace(b.serial, std::move(built));
      }
      prog.done();
      if (cache.builds_hashed() > 0) {
        s.hash_seconds += seconds_since(indexing_started);
      }
      if (auto dup = ss::find_duplicate_fingerprint(cat)) {
        throw publish_error(*dup);
      }
      s.hashed += cache.builds_hashed();
      s.reused = cache.builds_reused();
      s.bytes_hashed += cache.bytes_hashed();

      phases.mark("catalog (cached hashes, SHA256SUMS)");
      // The index and its signatures: images first, so the index never names a missing file.
      auto streams = partial / "streams/v1";
      fs::create_directories(streams);
      auto images_json = ss::render_images_json(cat);
      auto index_json = ss::render_index_json(cat);
      write_json_and_gzip(streams / "images.json", images_json);
      write_new_file(streams / "images.sjson", sign.clearsign(signed_body(images_json, false)));
      write_new_file(streams / "images.json.gpg", sign.detach_sign(images_json));
      write_json_and_gzip(streams / "index.json", index_json);
      write_new_file(streams / "index.sjson", sign.clearsign(signed_body(index_json, true)));
      write_new_file(streams / "index.json.gpg", sign.detach_sign(index_json));

      // The legacy LXC index, each file with a detached armoured signature (lxc-ci's .asc).
      auto legacy_dir = partial / "meta/1.0";
      fs::create_directories(legacy_dir);
      auto legacy_index = render_legacy_index(legacy_builds);
      for (const char* name : {"index-system", "index-user"}) {
        write_new_file(legacy_dir / name, legacy_index);
        write_new_file(legacy_dir / (std::string(name) + ".asc"),
                              sign.detach_sign(legacy_index));
      }

      for (const auto& b : plan.listed) {
        fresh.builds[b.path()] = std::nullopt;
      }
      for (const auto& [b, when] : plan.in_grace) {
        fresh.builds[b.path()] = when;
      }
      fs::create_directories(partial / ".lxcdn-publish");
      write_new_file(partial / state_file, render_state(fresh));
      sync_file_system(partial);

      phases.mark("index, signatures, state, syncfs");
      auto problems = verify_generation(partial, fresh, sign);
      if (!problems.empty()) {
        std::string msg = "generation " + id + " failed verification:";
        for (const auto& p : problems) {
          msg += "\n  " + p;
        }
        throw publish_error(msg);
      }
      phases.mark("verification");
      fs::rename(partial, c.work / "generations" / id);
      partial.clear();
      replace_symlink(c.work / "current", "generations/" + id);
      s.generation = id;
      s.new_generation = true;
      switched = true;

      for (const auto& b : plan.taken) {
        remove_incoming(c.incoming, by_id.at(b)->in->dir);
      }
    }
    for (const auto* b : clear) {
      remove_incoming(c.incoming, b->dir);
    }
    sweep_removals(c.incoming);

    phases.mark("switch and incoming cleanup");
    // 5. Push.
    if (s.generation.empty()) {
      print_summary(s, false, out);
      return 0;
    }
    std::size_t t = 0;
    for (const auto& target : c.targets) {
      prog.step("pushing", ++t, c.targets.size(), target);
      s.pushes.push_back(push_generation(target, c.work / "generations" / s.generation,
                                         s.generation, c.rsync, c.retention.generations));
    }
    prog.done();

    phases.mark("pushing to targets");
    // Local generations beyond the kept number go (never the current one).
    std::vector<std::string> gens;
    std::error_code ec;
    for (fs::directory_iterator it(c.work / "generations", ec), end; !ec && it != end;
         it.increment(ec)) {
      gens.push_back(it->path().filename().string());
    }
    std::ranges::sort(gens);
    std::vector<std::string> complete;
    for (const auto& g : gens) {
      if (g.ends_with(".partial")) {
        remove_tree(c.work / "generations" / g);
      } else {
        complete.push_back(g);
      }
    }
    for (std::size_t k = 0; k + c.retention.generations < complete.size(); ++k) {
      if (complete[k] != s.generation) {
        remove_tree(c.work / "generations" / complete[k]);
      }
    }
    phases.mark("pruning old generations");
  } catch (const std::exception& e) {
    if (!partial.empty()) {
      std::error_code ec;
      fs::remove_all(partial, ec);
    }
    print_summary(s, opt.dry_run, out);
    err << "lxcdn publish: " << e.what() << "\n";
    if (switched) {
      err << "lxcdn publish: generation " << s.generation
          << " is current here but was not pushed to every target; the next run pushes it\n";
    } else {
      err << "lxcdn publish: nothing was switched"
          << (s.generation.empty() ? "" : "; still at generation " + s.generation) << "\n";
    }
    return 1;
  }
  print_summary(s, false, out);
  bool all_ok = std::ranges::all_of(s.pushes, [](const push_result& p) { return p.ok; });
  if (!all_ok) {
    err << "lxcdn publish: some targets did not switch (see above); they serve their previous "
           "generation\n";
  }
  return all_ok ? 0 : 1;
}

}  // namespace lxcdn::publish
