#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "publish/build_identity.hpp"
#include "simplestreams/build_rules.hpp"

namespace lxcdn::publish {

// Whether an incoming build is already in the previous generation.
enum class already_published { no, same_files, other_files };

// What ingest knows about one incoming build directory (incoming/<os>/<release>/<arch>/
// <variant>/<serial>/), gathered by scan_incoming. A value.
struct incoming_facts {
  std::string rel;          // path below incoming, for messages
  identity_result identity;
  bool complete = false;    // .complete present
  bool validated = false;   // .validated present
  bool validation_required = false;  // by `validation.required` for its os
  simplestreams::build_selection selection;  // which files would be published
  bool lxc_only = false;    // meta.tar.xz + rootfs.tar.xz without LXD/Incus metadata
  already_published published = already_published::no;
};

enum class ingest_action {
  take,             // goes to retention planning
  skip,             // left in place, reason shown
  remove_published  // already published from these very files (a hard link): removed from incoming
};

struct ingest_verdict {
  ingest_action action = ingest_action::skip;
  std::string reason;  // for skip and remove_published
};

// The ingest decision, pure. In order: not complete (no .complete marker: still being written)
// -> skip; bad identity -> skip; LXC-only -> skip (the legacy index is not published);
// unusable file set -> skip; validation required and no .validated -> skip; published from the
// same files -> remove_published; published with other files under the same serial -> skip;
// else take.
ingest_verdict decide_ingest(const incoming_facts& f);

// True if builds of `os` need the .validated marker under `required` ("*" = every os).
bool validation_required_for(const std::vector<std::string>& required, const std::string& os);

struct incoming_build {
  incoming_facts facts;
  ingest_verdict verdict;
  std::filesystem::path dir;  // absolute
};

// Builds a generation knows (generation_state::builds): path below images/ -> retired_at.
using build_set = std::map<std::string, std::optional<std::int64_t>>;

// Walks incoming/<os>/<release>/<arch>/<variant>/<serial>/ (names starting with '.' are
// skipped silently, as work in progress; anything that is not a directory at those levels is
// ignored) and decides each build directory. `previous_generation` is the served root holding the
// build pool (empty if none): a build that `published_builds` names and whose images/<path>/
// exists there is already published, with the same files when every selected file is the same
// inode (a hard link made by an earlier run). A directory in the pool that the generation does
// not name is a killed run's leftover, not a publication.
// Sorted by path. Throws publish_error if incoming cannot be listed.
std::vector<incoming_build> scan_incoming(const std::filesystem::path& incoming,
                                          const std::vector<std::string>& validation_required,
                                          const std::filesystem::path& previous_generation,
                                          const build_set& published_builds);

// The name a build's file gets in the published tree: the metadata tarball is always
// incus.tar.xz (lxc-ci renames lxd.tar.xz), root files keep theirs.
std::string published_name(const std::string& incoming_name);

}  // namespace lxcdn::publish
