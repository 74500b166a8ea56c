#include "demo/demo_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace lxcdn::demo {

std::string render_origin_yaml(const demo_origin_settings& s) {
  YAML::Emitter out;
  out << YAML::Comment("Written by `lxcdn demo`; run it with `lxcdn origin --config THIS_FILE`.");
  out << YAML::BeginMap;
  out << YAML::Key << "root" << YAML::Value << YAML::DoubleQuoted << s.root.string();
  out << YAML::Key << "listen" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted << s.host
      << YAML::Key << "port" << YAML::Value << s.https_port << YAML::Key << "tls" << YAML::Value
      << true << YAML::EndMap;
  out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted << s.host
      << YAML::Key << "port" << YAML::Value << s.http_port << YAML::EndMap;
  out << YAML::EndSeq;
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "certificate" << YAML::Value << YAML::DoubleQuoted << s.certificate.string();
  out << YAML::Key << "key" << YAML::Value << YAML::DoubleQuoted << s.key.string();
  out << YAML::EndMap;
  if (!s.mirrors.empty()) {
    out << YAML::Key << "geoip" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "overrides" << YAML::Value << YAML::BeginSeq;
    for (const auto& [network, country] : s.overrides) {
      out << YAML::BeginMap << YAML::Key << "network" << YAML::Value << YAML::DoubleQuoted
          << network << YAML::Key << "country" << YAML::Value << country << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    out << YAML::Key << "mirrors" << YAML::Value << YAML::BeginSeq;
    for (const auto& m : s.mirrors) {
      out << YAML::BeginMap;
      out << YAML::Key << "name" << YAML::Value << m.name;
      out << YAML::Key << "http" << YAML::Value << YAML::DoubleQuoted << "http://" + m.host_port;
      out << YAML::Key << "https" << YAML::Value << YAML::DoubleQuoted
          << "https://" + m.host_port;
      out << YAML::Key << "country" << YAML::Value << m.country;
      out << YAML::Key << "place" << YAML::Value << YAML::DoubleQuoted << m.place;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "health" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "interval" << YAML::Value << "1s";
    out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << s.ca_file.string();
    out << YAML::Key << "recover_after" << YAML::Value << 1;
    out << YAML::Key << "slow_start" << YAML::Value << "0s";
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string render_mirror_yaml(const demo_mirror_settings& s) {
  YAML::Emitter out;
  out << YAML::Comment("Written by `lxcdn demo`; run it with `lxcdn mirror --config THIS_FILE`.");
  out << YAML::BeginMap;
  out << YAML::Key << "upstream" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << s.upstream_url;
  out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << s.ca_file.string();
  out << YAML::EndMap;
  out << YAML::Key << "cache" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << s.cache_dir.string();
  out << YAML::Key << "max_size" << YAML::Value << "1G";
  out << YAML::EndMap;
  out << YAML::Key << "listen" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted << s.host
      << YAML::Key << "port" << YAML::Value << s.port << YAML::Key << "tls" << YAML::Value
      << true << YAML::EndMap;
  out << YAML::EndSeq;
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "certificate" << YAML::Value << YAML::DoubleQuoted << s.certificate.string();
  out << YAML::Key << "key" << YAML::Value << YAML::DoubleQuoted << s.key.string();
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::vector<std::string> demo_certificate_hosts(const std::string& host) {
  std::vector<std::string> hosts{"127.0.0.1", "::1", "localhost"};
  if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
    hosts.push_back(host);
  }
  return hosts;
}

}  // namespace lxcdn::demo
