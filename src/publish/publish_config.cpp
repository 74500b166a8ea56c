#include "publish/publish_config.hpp"

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"

namespace lxcdn::publish {

namespace {

// "a=b" strings into a map; `what` names the left side in messages.
std::map<std::string, std::string> pairs(yaml_map& m, const std::string& key, const char* what) {
  std::vector<std::string> items;
  m.get(key, items);
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      m.fail(key, "expected \"" + std::string(what) + "=value\", got '" + item + "'");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace

publish_config parse_publish_config(const std::string& yaml_text,
                                    const std::filesystem::path& source) {
  publish_config c;
  c.source = source;
  yaml_map top(parse_yaml(yaml_text, source), "", source);
  top.require("incoming");
  top.get_path("incoming", c.incoming);
  top.require("work");
  top.get_path("work", c.work);

  top.require("publish");
  auto pub = top.child("publish");
  pub.require("targets");
  pub.get("targets", c.targets);
  if (c.targets.empty()) {
    pub.fail("targets", "at least one target is needed");
  }
  for (auto& t : c.targets) {
    auto colon = t.find(':');
    auto slash = t.find('/');
    bool remote = colon != std::string::npos && (slash == std::string::npos || colon < slash);
    if (!remote) {
      t = resolve_config_path(source, t).string();
    }
  }
  pub.get("rsync", c.rsync);
  pub.finish();

  auto val = top.child("validation");
  val.get("required", c.validation_required);
  val.finish();

  top.get("deltas", c.deltas);
  top.get("xdelta3", c.xdelta3);

  top.require("signing");
  auto sig = top.child("signing");
  sig.require("key");
  sig.get("key", c.signing.key);
  sig.get_path("gnupg_home", c.signing.gnupg_home);
  sig.finish();

  auto ret = top.child("retention");
  ret.get("keep", c.retention.keep);
  if (c.retention.keep == 0) {
    ret.fail("keep", "must be at least 1");
  }
  ret.get_duration("grace", c.retention.grace);
  ret.get("generations", c.retention.generations);
  if (c.retention.generations < 2) {
    ret.fail("generations", "must be at least 2 (the current one and the one before)");
  }
  ret.finish();

  auto al = top.child("aliases");
  al.get("default_variant", c.aliases.default_variant);
  c.aliases.os_default_variant = pairs(al, "default_variants", "os");
  c.aliases.release_names = pairs(al, "release_aliases", "os/release");
  for (const auto& [k, v] : c.aliases.release_names) {
    if (k.find('/') == std::string::npos) {
      al.fail("release_aliases", "expected \"os/release=name\", got '" + k + "=" + v + "'");
    }
  }
  al.finish();

  for (auto& r : top.children("requirements")) {
    requirement_rule rule;
    r.require("match");
    r.get("match", rule.match);
    rule.set = pairs(r, "set", "key");
    r.finish();
    c.requirements.push_back(std::move(rule));
  }
  top.finish();
  return c;
}

publish_config load_publish_config(const std::filesystem::path& file) {
  return parse_publish_config(read_config_file(file), file);
}

}  // namespace lxcdn::publish
