#include "demo/client_commands.hpp"

namespace lxcdn::demo {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<std::string> client_commands(const client_target& t) {
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  const std::string url = "https://" + host + ":" + std::to_string(t.https_port);
  // Double quotes: the shell expands ${LXD_CONF:-...}; remote names cannot hold quotes.
  const std::string certs_dir = "${LXD_CONF:-$HOME/.config/lxc}/servercerts";
  return {
      "lxc remote remove " + t.remote + " 2>/dev/null || true; mkdir -p \"" + certs_dir + "\"",
      "cp " + shell_quote(t.ca_certificate.string()) + " \"" + certs_dir + "/" + t.remote +
          ".crt\"",
      "lxc remote add " + t.remote + " " + url + " --protocol=simplestreams",
      "lxc image list " + t.remote + ":",
      "lxc launch " + t.remote + ":" + t.alias + " " + t.instance,
      "lxc exec " + t.instance + " -- cat /etc/hostname",
  };
}

std::vector<std::string> watch_commands(const watch_target& t) {
  const std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  const std::string origin_http = "http://" + host + ":" + std::to_string(t.origin_http_port);
  const std::string origin_https = "https://" + host + ":" + std::to_string(t.origin_https_port);
  const std::string mirror = host + ":" + std::to_string(t.mirror_port);
  const std::string image = shell_quote(origin_http + t.image_path);
  auto from = [](const std::string& source) {
    return source.empty() ? std::string() : "--interface " + source + " ";
  };
  std::vector<std::string> lines{
      "curl " + from(t.source_a) + "-sI " + image,
      "curl " + from(t.source_a) +
          "-sL -o /dev/null -w '%{http_code} %{size_download} bytes from %{url_effective}\\n' " +
          image,
      "curl -s " + shell_quote("http://" + mirror + "/.lxcdn/status"),
      "curl -s " + shell_quote("http://" + mirror + "/metrics") +
          " | grep -E '^lxcdn_mirror_(hits|misses|fill_bytes)_total'",
      shell_quote(t.program.string()) + " check-mirror " + shell_quote(mirror) + " --origin " +
          shell_quote(origin_https) + " --ca-file " + shell_quote(t.ca_certificate.string()),
  };
  if (!t.source_b.empty()) {
    lines.push_back("curl " + from(t.source_b) + "-sI " + image);
    lines.push_back("curl -s " + shell_quote(origin_http + "/.lxcdn/metrics") +
                    " | grep '^lxcdn_origin_redirects_total'");
  }
  return lines;
}

}  // namespace lxcdn::demo
