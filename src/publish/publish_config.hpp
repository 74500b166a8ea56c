#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lxcdn::publish {

// How product aliases are made (simplestreams-spec 1.5, lxc-ci's alias set). `aliases:`.
struct alias_settings {
  // `default_variant`: the variant that also gets the short "os/release" alias. Default "default".
  std::string default_variant = "default";
  // `default_variants`: per-distro overrides of default_variant, as "os=variant" strings.
  std::map<std::string, std::string> os_default_variant;
  // `release_aliases`: extra release names, as "os/release=name" strings, e.g.
  // "debian/bookworm=12" makes debian/12/<variant> (and debian/12 for the default variant) too.
  std::map<std::string, std::string> release_names;
};

// `requirements:` entries: products whose "os/release/variant" starts with `match` (whole
// segments: "centos/7" matches centos/7/cloud but not centos/70) get `set`. Later entries win on
// the same key. Values are strings, as the clients decode them (spec 1.3).
struct requirement_rule {
  std::string match;                        // `match`, e.g. "centos/7" or "alpine"
  std::map<std::string, std::string> set;   // `set`: ["cgroup=v1", "secureboot=false"]
};

// `signing:`. Required: an index is never published unsigned.
struct signing_settings {
  std::string key;                   // `key`: fingerprint, key id or user id of a secret key
  std::filesystem::path gnupg_home;  // `gnupg_home`: GnuPG home; default: $GNUPGHOME or ~/.gnupg
};

// `retention:`.
struct retention_settings {
  unsigned keep = 3;  // `keep`: newest builds listed per product. Default 3, at least 1.
  // `grace`: how long a file that left the index stays on disk (clients cache the index for up to
  // an hour, mirrors keep 404s for minutes). Default 1d.
  std::chrono::milliseconds grace = std::chrono::hours(24);
  unsigned generations = 3;  // `generations`: generations kept per node (current included). Default 3.
};

// Everything `lxcdn publish` reads from its YAML file (docs/publish.md), parsed once. Immutable
// after load.
struct publish_config {
  std::filesystem::path source;    // the YAML file, for messages
  // `incoming`: where builds arrive, as incoming/<os>/<release>/<arch>/<variant>/<serial>/.
  // Required.
  std::filesystem::path incoming;
  // `work`: the publisher's own tree: work/generations/<id>/ and work/current. Required; on the
  // same file system as `incoming` for hard links (else builds are copied).
  std::filesystem::path work;
  // `publish.targets`: the origin nodes, each a local directory or "host:path" (rsync over ssh).
  // A node serves <target>/current. At least one.
  std::vector<std::string> targets;
  std::filesystem::path rsync = "rsync";  // `publish.rsync`: the rsync program. Default "rsync".
  // `validation.required`: os names whose builds need the .validated marker; "*" means all.
  // Default ["*"].
  std::vector<std::string> validation_required{"*"};
  bool deltas = true;  // `deltas`: squashfs deltas against the previous serial. Default true.
  std::filesystem::path xdelta3 = "xdelta3";  // `xdelta3`: the xdelta3 program.
  signing_settings signing;
  retention_settings retention;
  alias_settings aliases;
  std::vector<requirement_rule> requirements;
};

// Reads and checks a publish config. Throws config_error "FILE:LINE: KEY: reason".
publish_config load_publish_config(const std::filesystem::path& file);
publish_config parse_publish_config(const std::string& yaml_text,
                                    const std::filesystem::path& source);

}  // namespace lxcdn::publish
