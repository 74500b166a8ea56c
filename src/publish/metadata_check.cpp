#include "publish/metadata_check.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace lxcdn::publish {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> scalar(const YAML::Node& map, const char* key) {
  auto n = map[key];
  if (!n || !n.IsScalar()) {
    return std::nullopt;
  }
  return n.Scalar();
}

}  // namespace

std::optional<std::string> metadata_problem(std::string_view yaml_text, const build_id& id) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return std::string("metadata.yaml: not valid YAML: ") + e.what();
  }
  if (!doc.IsMap()) {
    return std::string("metadata.yaml: not a mapping");
  }
  auto arch = scalar(doc, "architecture");
  if (!arch) {
    return std::string("metadata.yaml: architecture missing");
  }
  if (!same_architecture(*arch, id.arch)) {
    return "metadata.yaml: architecture '" + *arch + "' does not match the path's '" + id.arch +
           "'";
  }
  auto created = scalar(doc, "creation_date");
  if (!created) {
    return std::string("metadata.yaml: creation_date missing");
  }
  if (created->empty() || created->size() > 18 ||
      !std::ranges::all_of(*created, [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoll(*created) <= 0) {
    return "metadata.yaml: creation_date '" + *created + "' is not a positive unix time";
  }
  auto props = doc["properties"];
  if (!props || !props.IsMap()) {
    return std::string("metadata.yaml: properties missing");
  }
  for (const char* key : {"os", "release", "architecture"}) {
    if (!scalar(props, key)) {
      return std::string("metadata.yaml: properties.") + key + " missing";
    }
  }
  auto os = *scalar(props, "os");
  if (!iequal(os, id.os)) {
    return "metadata.yaml: properties.os '" + os + "' does not match the path's '" + id.os + "'";
  }
  auto release = *scalar(props, "release");
  if (release != id.release) {
    return "metadata.yaml: properties.release '" + release + "' does not match the path's '" +
           id.release + "'";
  }
  auto parch = *scalar(props, "architecture");
  if (!same_architecture(parch, id.arch)) {
    return "metadata.yaml: properties.architecture '" + parch + "' does not match the path's '" +
           id.arch + "'";
  }
  for (auto [key, want] : {std::pair{"variant", &id.variant}, std::pair{"serial", &id.serial}}) {
    if (auto v = scalar(props, key); v && *v != *want) {
      return std::string("metadata.yaml: properties.") + key + " '" + *v +
             "' does not match the path's '" + *want + "'";
    }
  }
  return std::nullopt;
}

}  // namespace lxcdn::publish
