#include "publish/run_publish.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <future>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/sha256.hpp"
#include "core/unique_fd.hpp"
#include "demo/tool_runner.hpp"
#include "publish/fs_ops.hpp"
#include "publish/generation_state.hpp"
#include "publish/hash_cache.hpp"
#include "publish/ingest.hpp"
#include "publish/legacy_index.hpp"
#include "publish/pool_layout.hpp"
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
constexpr const char* dropped_file = ".lxcdn-publish/dropped";

// The previous generation: its id, directory (.generations/<id>, or the whole generation of the
// old layout in a dry run) and state. A missing or damaged state is rebuilt from the pool (every
// build there listed, nothing cached), so a damaged file costs hashing, never builds.
struct previous_generation {
  std::string id;  // empty: none yet
  fs::path dir;
  fs::path root;   // the served root holding images/
  generation_state state;
};

previous_generation read_previous(const fs::path& work, std::ostream& err) {
  previous_generation p;
  pool_layout pool(work);
  std::error_code ec;
  if (fs::is_symlink(pool.root, ec)) {
    // The old layout (only a dry run gets here: a run converts it first).
    if (auto link = read_link(pool.root)) {
      p.dir = p.root = work / *link;
      p.id = p.dir.filename().string();
    }
  } else {
    p.id = served_generation(pool);
    p.dir = pool.generation(p.id);
    p.root = pool.root;
  }
  if (p.id.empty()) {
    p.dir.clear();
    p.root.clear();
    return p;
  }
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
  p.state.generation = p.id;
  for (fs::recursive_directory_iterator it(p.root / "images", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it.depth() == 4 && it->is_directory()) {
      p.state.builds[it->path().lexically_relative(p.root / "images").string()] = std::nullopt;
      it.disable_recursion_pending();
    }
  }
  return p;
}

// The build paths a generation dropped from the pool (.lxcdn-publish/dropped), if it records any.
std::vector<std::string> read_dropped(const fs::path& generation) {
  std::vector<std::string> out;
  auto text = read_whole_file(generation / dropped_file).value_or("");
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      break;  // a torn last line: ignored
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// Removes what a killed run left in the publisher's tree: staged builds, generations that were
// assembled but never switched to, and builds the served generation dropped but a kill kept on
// disk. (A build renamed into the pool by a killed run is still in incoming, where the run
// finds it and removes the directory: ingest counts only builds the state names.)
void remove_leftovers(const pool_layout& pool, const previous_generation& prev) {
  remove_tree(pool.staging());
  std::error_code ec;
  std::vector<fs::path> gone;
  for (fs::directory_iterator it(pool.generations(), ec), end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.ends_with(".partial") || name > prev.id) {
      gone.push_back(it->path());
    }
  }
  for (const auto& g : gone) {
    remove_tree(g);
  }
  if (!prev.id.empty()) {
    for (const auto& b : read_dropped(prev.dir)) {
      if (!prev.state.builds.contains(b)) {
        remove_tree(pool.images() / b);
      }
    }
  }
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

// Up to this many new builds, each new file and directory is fsynced; past it (a first publish,
// a large batch) one syncfs(2) of the pool's file system is cheaper than thousands of fsyncs
// (measured at 9,000 builds: 100 s of fsyncs against about 1 s for the syncfs).
constexpr std::size_t fsync_each_limit = 64;

// A new build laid out under pool.staging(): its files linked from incoming, its squashfs delta
// against the previous listed serial (in the pool), SHA256SUMS; with `fsync_each`, every file and
// the directory fsynced.
struct staged_build {
  ss::build digests;   // as published: paths "images/<path>/...", deltas included
  std::optional<ss::file_digest> lxc_meta;  // meta.tar.xz, for the legacy index
  fs::path dir;        // under .staging
};

ss::file_digest hash_one(const fs::path& file, const std::string& rel) {
  sha256 h;
  std::uint64_t n = 0;
  if (auto ec = hash_file_into(file, h, &n)) {
    throw publish_error("cannot read " + file.string() + ": " + ec.message());
  }
  return {rel, n, h.hex_digest()};
}

staged_build stage_build(const pool_layout& pool, const build_id& b, const candidate& cand,
                         const std::optional<std::string>& delta_base,
                         const std::optional<fs::path>& xdelta3, bool fsync_each) {
  staged_build st;
  st.dir = pool.staging() / b.path();
  auto rel = "images/" + b.path();
  remove_tree(st.dir);
  fs::create_directories(st.dir);
  const auto& f = cand.in->facts;
  std::vector<std::string> names{published_name(f.selection.metadata)};
  link_or_copy(cand.in->dir / f.selection.metadata, st.dir / names.back());
  for (auto kind : f.selection.roots) {
    names.emplace_back(ss::format_of(kind).file_name);
    link_or_copy(cand.in->dir / names.back(), st.dir / names.back());
  }
  st.digests = published_digests(cand.hashed, rel);
  std::map<std::string, std::string> sums;  // name -> sha256
  sums.emplace("incus.tar.xz", st.digests.metadata.sha256);
  for (const auto& r : st.digests.roots) {
    sums.emplace(fs::path(r.file.path).filename().string(), r.file.sha256);
  }
  // LXC's metadata, for the legacy index (with rootfs.tar.xz, a root above).
  if (key_of(cand.in->dir / "meta.tar.xz")) {
    names.emplace_back("meta.tar.xz");
    link_or_copy(cand.in->dir / "meta.tar.xz", st.dir / "meta.tar.xz");
    st.lxc_meta = hash_one(st.dir / "meta.tar.xz", rel + "/meta.tar.xz");
    sums.emplace("meta.tar.xz", st.lxc_meta->sha256);
  }
  if (xdelta3 && delta_base) {
    auto base = pool.images() / b.os / b.release / b.arch / b.variant / *delta_base /
                "rootfs.squashfs";
    std::error_code ec;
    if (fs::exists(base, ec) && fs::exists(st.dir / "rootfs.squashfs", ec)) {
      auto name = "delta-" + *delta_base + ".vcdiff";
      demo::run_tool(*xdelta3, {"-e", "-f", "-s", base.string(),
                                (st.dir / "rootfs.squashfs").string(), (st.dir / name).string()});
      names.push_back(name);
      st.digests.deltas.push_back({*delta_base, hash_one(st.dir / name, rel + "/" + name)});
      sums.emplace(name, st.digests.deltas.back().file.sha256);
    }
  }
  std::string text;
  for (const auto& [name, sha] : sums) {
    text += sha + "  " + name + "\n";
  }
  write_new_file(st.dir / "SHA256SUMS", text);
  names.emplace_back("SHA256SUMS");
  if (fsync_each) {
    for (const auto& n : names) {
      fsync_path(st.dir / n);
    }
    fsync_path(st.dir);
  }
  return st;
}

}  // namespace

int run_publish(const publish_config& c, const publish_options& opt, std::ostream& out,
                std::ostream& err) {
  summary s;
  const pool_layout pool(c.work);
  fs::path partial;                 // the generation being assembled
  std::vector<fs::path> placed;     // builds renamed into the pool by this run, before its switch
  bool switched = false;
  bool locked = false;  // the tree is this run's to clean up
  try {
    signer sign(c.signing);
    std::optional<run_lock> lock;  // a dry run writes nothing, not even the lock file
    if (!opt.dry_run) {
      lock.emplace(c.work);
      locked = true;
    }
    progress prog(err, opt.progress);
    const auto now = opt.now();
    phase_timer phases;
    if (!opt.dry_run && prepare_layout(c.work)) {
      spdlog::info("publish: converted {} to the build pool layout", c.work.string());
    }
    auto prev = read_previous(c.work, err);
    if (!opt.dry_run) {
      remove_leftovers(pool, prev);
    }
    s.generation = prev.state.generation;
    phases.mark("reading the state, leftovers");

    // 3. Ingest.
    auto incoming = scan_incoming(c.incoming, c.validation_required, prev.root, prev.state.builds);
    for (const auto& b : incoming) {
      // A build a killed run renamed into the pool before its switch: no generation names it.
      if (!opt.dry_run && b.facts.identity.id &&
          !prev.state.builds.contains(b.facts.identity.id->path())) {
        remove_tree(pool.images() / b.facts.identity.id->path());
      }
    }
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
                   prev.id.empty();
    if (opt.dry_run) {
      s.new_generation = changed;
      s.generation = changed ? next_generation_id(prev.state.generation) : prev.state.generation;
      print_summary(s, true, out);
      return 0;
    }

    // 4. Stage the new builds, place them in the pool, assemble, verify, switch.
    std::optional<generation_state> made;  // the state of the generation this run switched to
    if (changed) {
      auto id = next_generation_id(prev.state.generation);
      partial = pool.generations() / (id + ".partial");
      generation_state fresh;
      fresh.generation = id;
      hash_cache cache(prev.state, fresh);
      std::set<build_id> taken(plan.taken.begin(), plan.taken.end());
      std::map<std::string, std::set<std::string>> listed_serials;  // product -> serials
      for (const auto& b : plan.listed) {
        listed_serials[b.product()].insert(b.serial);
      }

      std::optional<fs::path> xdelta3;
      if (c.deltas && !plan.taken.empty()) {
        xdelta3 = demo::require_tool(c.xdelta3.string(), "xdelta3");
      }
      std::map<build_id, staged_build> staged;
      const bool fsync_each = plan.taken.size() <= fsync_each_limit;
      std::size_t i = 0;
      for (const auto& b : plan.taken) {
        prog.step("staging", ++i, plan.taken.size(), b.path());
        // Squashfs deltas from the previous listed serial of the same product.
        const auto& serials = listed_serials[b.product()];
        auto it = serials.find(b.serial);
        std::optional<std::string> base;
        if (it != serials.begin()) {
          base = *std::prev(it);
        }
        staged.emplace(b, stage_build(pool, b, *by_id.at(b), base, xdelta3, fsync_each));
        s.deltas += staged.at(b).digests.deltas.size();
      }
      prog.done();
      phases.mark("staging new builds (links, deltas, SHA256SUMS, fsync)");
      // Into the pool under their final names. A directory there that the served generation does
      // not list is a killed run's leftover (ingest took the build again) and is replaced.
      for (auto& [b, st] : staged) {
        auto final_dir = pool.images() / b.path();
        remove_tree(final_dir);
        auto existing = final_dir.parent_path();  // the nearest ancestor that exists already
        while (!fs::exists(existing)) {
          existing = existing.parent_path();
        }
        fs::create_directories(final_dir.parent_path());
        rename_path(st.dir, final_dir);
        placed.push_back(final_dir);
        if (fsync_each) {  // each directory whose entries changed: the parent, new ancestors
          for (auto d = final_dir.parent_path();; d = d.parent_path()) {
            fsync_path(d);
            if (d == existing) {
              break;
            }
          }
        }
        cache.remember(pool.root, st.digests.metadata);
        for (const auto& r : st.digests.roots) {
          cache.remember(pool.root, r.file);
          cache.remember_combined(st.digests.metadata.path, r.file.path, r.combined_sha256);
        }
        for (const auto& d : st.digests.deltas) {
          cache.remember(pool.root, d.file);
        }
        if (st.lxc_meta) {
          cache.remember(pool.root, *st.lxc_meta);
        }
      }
      remove_tree(pool.staging());
      if (!fsync_each) {
        sync_file_system(pool.root);
      }

      // The catalog: new builds from their staged digests, the others from the hash cache.
      ss::catalog cat;
      std::vector<build_id> legacy_builds;  // listed builds with meta.tar.xz and rootfs.tar.xz
      i = 0;
      auto indexing_started = std::chrono::steady_clock::now();
      for (const auto& b : plan.listed) {
        prog.step("indexing", ++i, plan.listed.size(), b.path());
        auto dir = "images/" + b.path();
        auto entries = entries_of(pool.root / dir);
        ss::build built;
        if (auto n = staged.find(b); n != staged.end()) {
          built = n->second.digests;
        } else {
          auto selection = ss::select_build_files(entries);
          if (!selection.skip_reason.empty()) {
            throw publish_error(dir + ": " + selection.skip_reason);
          }
          built = cache.build(pool.root, dir, selection);
          for (const auto& [name, type] : entries) {
            if (name.starts_with("delta-") && name.ends_with(".vcdiff") &&
                type == ss::entry_type::regular) {
              auto base = name.substr(6, name.size() - 6 - 7);
              if (listed_serials[b.product()].contains(base)) {
                built.deltas.push_back({base, cache.file(pool.root, dir + "/" + name)});
              }
            }
          }
        }
        if (entries.contains("meta.tar.xz") && entries.contains("rootfs.tar.xz")) {
          legacy_builds.push_back(b);
          cache.file(pool.root, dir + "/meta.tar.xz");  // cached after once; verify reads it
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

      phases.mark("placing new builds, catalog (cached hashes)");
      // The generation directory: the index and its signatures (images first, so the index
      // never names a missing file), the legacy index, the state.
      remove_tree(partial);
      auto streams = partial / "streams/v1";
      auto legacy_dir = partial / "meta/1.0";
      fs::create_directories(streams);
      fs::create_directories(legacy_dir);
      fs::create_directories(partial / ".lxcdn-publish");
      auto images_json = ss::render_images_json(cat);
      auto index_json = ss::render_index_json(cat);
      phases.mark("rendering the index");
      // Compressed on a thread of its own while this one waits for gpg's signatures, at zlib's
      // level 6: at 9,000 builds (7.7 MB) level 9 took 2.5 times as long for a file 1.3 % smaller.
      auto images_gz = std::async(std::launch::async, [&images_json] {
        return ss::gzip_compress(images_json, 6);
      });
      write_new_file(streams / "images.json", images_json);
      write_new_file(streams / "images.sjson", sign.clearsign(signed_body(images_json, false)));
      write_new_file(streams / "images.json.gpg", sign.detach_sign(images_json));
      write_json_and_gzip(streams / "index.json", index_json);
      write_new_file(streams / "index.sjson", sign.clearsign(signed_body(index_json, true)));
      write_new_file(streams / "index.json.gpg", sign.detach_sign(index_json));

      // The legacy LXC index, each file with a detached armoured signature (lxc-ci's .asc).
      // index-user is the same list as index-system, so one signature serves both.
      auto legacy_index = render_legacy_index(legacy_builds);
      auto legacy_signature = sign.detach_sign(legacy_index);
      for (const char* name : {"index-system", "index-user"}) {
        write_new_file(legacy_dir / name, legacy_index);
        write_new_file(legacy_dir / (std::string(name) + ".asc"), legacy_signature);
      }

      for (const auto& b : plan.listed) {
        fresh.builds[b.path()] = std::nullopt;
      }
      for (const auto& [b, when] : plan.in_grace) {
        fresh.builds[b.path()] = when;
      }
      std::string dropped;
      for (const auto& b : plan.expired) {
        dropped += b.path() + "\n";
      }
      write_new_file(streams / "images.json.gz", images_gz.get());
      phases.mark("compressing the index (a thread) and signatures");
      write_new_file(partial / state_file, render_state(fresh));
      write_new_file(partial / dropped_file, dropped);
      phases.mark("state");
      for (const auto& dir : {streams, legacy_dir}) {
        for (const auto& e : fs::directory_iterator(dir)) {
          fsync_path(e.path());
        }
        fsync_path(dir);
      }
      for (const char* f : {state_file, dropped_file}) {
        fsync_path(partial / f);
      }
      for (const auto& d : {partial / "streams", partial / "meta", partial / ".lxcdn-publish", partial}) {
        fsync_path(d);
      }

      phases.mark("fsync of the generation's files");
      auto problems = verify_generation(pool.root, partial, fresh, sign);
      if (!problems.empty()) {
        std::string msg = "generation " + id + " failed verification:";
        for (const auto& p : problems) {
          msg += "\n  " + p;
        }
        throw publish_error(msg);
      }
      phases.mark("verification");
      rename_path(partial, pool.generation(id));
      partial.clear();
      fsync_path(pool.generations());
      switch_generation(pool, id);
      placed.clear();
      s.generation = id;
      s.new_generation = true;
      switched = true;
      made = std::move(fresh);

      // Only now that the pointer names a generation without them.
      for (const auto& b : plan.expired) {
        remove_tree(pool.images() / b.path());
      }
      for (const auto& b : plan.taken) {
        remove_incoming(c.incoming, by_id.at(b)->in->dir);
      }
    }
    for (const auto* b : clear) {
      remove_incoming(c.incoming, b->dir);
    }
    sweep_removals(c.incoming);

    phases.mark("switch, expired builds and incoming cleanup");
    // 5. Push.
    if (s.generation.empty()) {
      print_summary(s, false, out);
      return 0;
    }
    std::error_code ec;
    std::map<std::string, generation_state> older;  // states read for nodes that lag behind
    push_source src;
    src.root = pool.root;
    src.id = s.generation;
    src.rsync = c.rsync;
    src.keep = c.retention.generations;
    src.state = made ? &*made : &prev.state;
    src.state_of = [&](const std::string& id) -> const generation_state* {
      if (id == prev.id) {
        return &prev.state;
      }
      if (auto it = older.find(id); it != older.end()) {
        return &it->second;
      }
      std::string error;
      auto text = read_whole_file(pool.generation(id) / state_file);
      auto parsed = text ? parse_state(*text, error) : std::nullopt;
      return parsed ? &older.emplace(id, std::move(*parsed)).first->second : nullptr;
    };
    for (fs::directory_iterator it(pool.generations(), ec), end; !ec && it != end;
         it.increment(ec)) {
      for (auto& b : read_dropped(it->path())) {
        src.dropped.insert(std::move(b));
      }
    }
    std::size_t t = 0;
    for (const auto& target : c.targets) {
      prog.step("pushing", ++t, c.targets.size(), target);
      s.pushes.push_back(push_generation(target, src));
    }
    prog.done();
    phases.mark("pushing to targets");
    // Local generations beyond the kept number go (never the current one); their builds stay
    // in the pool as long as the current generation names them.
    std::vector<std::string> gens;  // after the pushes: a node may serve an older one
    ec.clear();
    for (fs::directory_iterator it(pool.generations(), ec), end; !ec && it != end;
         it.increment(ec)) {
      gens.push_back(it->path().filename().string());
    }
    std::ranges::sort(gens);
    for (std::size_t k = 0; k + c.retention.generations < gens.size(); ++k) {
      if (gens[k] != s.generation) {
        remove_tree(pool.generation(gens[k]));
      }
    }
    phases.mark("pruning old generations");
  } catch (const std::exception& e) {
    std::error_code ec;
    if (locked) {
      if (!partial.empty()) {
        fs::remove_all(partial, ec);
      }
      for (const auto& p : placed) {  // in the pool, but no generation that is served lists them
        fs::remove_all(p, ec);
      }
      fs::remove_all(pool.staging(), ec);
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
