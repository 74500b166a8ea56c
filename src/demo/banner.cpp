#include "demo/banner.hpp"

#include <fmt/format.h>

#include "demo/client_commands.hpp"

namespace lxcdn::demo {

namespace {

std::string indented(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += "  " + l + "\n";
  }
  return out;
}

}  // namespace

std::string render_banner(const demo_options& o, const prepared_demo& p,
                          const std::filesystem::path& program, bool running) {
  const auto commands = indented(client_commands(
      {.host = o.host, .https_port = o.https_port, .ca_certificate = p.ca_certificate}));
  const std::string lxcdn = shell_quote(program.string());
  std::string out;
  if (!running) {
    out += fmt::format("lxcdn demo: prepared {} (config {})\n", p.dir.string(),
                       p.origin_config.string());
    out += fmt::format("Start the origin with: {} origin --config {}\n", lxcdn,
                       shell_quote(p.origin_config.string()));
    for (const auto* config : {&p.mirror_a_config, &p.mirror_b_config}) {
      if (!config->empty()) {
        out += fmt::format("Start a mirror with: {} mirror --config {}\n", lxcdn,
                           shell_quote(config->string()));
      }
    }
    if (p.mirror_a_config.empty()) {
      out += "(no mirror configs: they name the origin's HTTPS port, and it is 0)\n";
    }
    return out + "then, in another shell:\n\n" + commands;
  }
  const std::string a = host_port(o.host, o.mirror_a_port);
  const std::string b = host_port(o.host, o.mirror_b_port);
  // The origin's GeoIP overrides (demo_overrides) place 127.0.0.3 in Japan and the rest of
  // loopback in Germany; source addresses only make sense for an IPv4 loopback host.
  const bool loopback4 = o.host.starts_with("127.");
  out += fmt::format(
      "\nlxcdn demo: origin on https://{0} and http://{1}; GeoIP overrides send /images/... "
      "from 127.0.0.3 (JP) to mirror B and from any other loopback address (DE) to mirror A; "
      "status page http://{1}/.lxcdn/mirrors\n"
      "lxcdn demo: mirror A on {2} (HTTP and HTTPS on one port), cache {3}\n"
      "lxcdn demo: mirror B on {4} (HTTP and HTTPS on one port), cache {5}\n"
      "Watch a download go origin -> mirror A{6}:\n",
      host_port(o.host, o.https_port), host_port(o.host, o.http_port), a,
      (p.dir / "cache-a").string(), b, (p.dir / "cache-b").string(),
      loopback4 ? " from 127.0.0.2, then where 127.0.0.3 is sent (mirror B)" : "");
  out += indented(watch_commands({.host = o.host,
                                  .origin_http_port = o.http_port,
                                  .origin_https_port = o.https_port,
                                  .mirror_port = o.mirror_a_port,
                                  .mirror_b_port = o.mirror_b_port,
                                  .source_a = loopback4 ? "127.0.0.2" : "",
                                  .source_b = loopback4 ? "127.0.0.3" : "",
                                  .image_path = p.sample_image_path,
                                  .program = program,
                                  .ca_certificate = p.ca_certificate}));
  out += "Paste these in another shell (Ctrl-C here stops the demo; `lxc launch` needs an "
         "initialised LXD daemon, e.g. `lxd init --auto`):\n\n";
  return out + commands + "\nlxcdn demo: running (origin, mirror A, mirror B)\n";
}

}  // namespace lxcdn::demo
