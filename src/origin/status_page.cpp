#include "origin/status_page.hpp"

#include <fmt/format.h>

#include "geoip/json_text.hpp"

namespace lxcdn::origin {

namespace {

std::string html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// "mirror.example.org" from "https://mirror.example.org:8443/lxc".
std::string server_of(const selection::mirror& m) {
  std::string_view url = m.https_url.empty() ? m.http_url : m.https_url;
  if (auto p = url.find("://"); p != std::string_view::npos) {
    url.remove_prefix(p + 3);
  }
  return std::string(url.substr(0, url.find('/')));
}

std::string speed(std::uint64_t mbps) {
  if (mbps == 0) {
    return "";
  }
  if (mbps % 1000 == 0) {
    return fmt::format("{}Gbps", mbps / 1000);
  }
  return fmt::format("{}Mbps", mbps);
}

std::string ago(std::int64_t then, std::int64_t now) {
  if (then == 0) {
    return "never";
  }
  auto d = now - then;
  if (d < 0) {
    d = 0;
  }
  return d < 120 ? fmt::format("{} s ago", d) : fmt::format("{} min ago", d / 60);
}

std::string place_of(const selection::mirror& m) {
  return m.place.empty() ? m.country : m.place;
}

void append_row_json(std::string& out, const status_row& r) {
  using geoip::append_json_number;
  using geoip::append_json_string;
  using geoip::append_json_string_or_null;
  const auto& m = r.entry.mirror;
  const auto& h = r.entry.health;
  out += "{\"name\":";
  append_json_string(out, m.name);
  out += ",\"http\":";
  append_json_string_or_null(out, m.http_url);
  out += ",\"https\":";
  append_json_string_or_null(out, m.https_url);
  out += ",\"place\":";
  append_json_string(out, place_of(m));
  out += ",\"country\":";
  append_json_string(out, m.country);
  out += ",\"continent\":";
  append_json_string(out, m.continent);
  out += ",\"latitude\":";
  append_json_number(out, m.location.latitude);
  out += ",\"longitude\":";
  append_json_number(out, m.location.longitude);
  out += fmt::format(",\"capacity_mbps\":{}", m.capacity_mbps);
  out += ",\"operator\":";
  append_json_string_or_null(out, m.operated_by);
  out += ",\"notes\":";
  append_json_string_or_null(out, m.notes);
  out += fmt::format(",\"weight\":{}", m.weight);
  out += ",\"state\":";
  append_json_string(out, selection::to_string(m.state));
  out += ",\"configured_state\":";
  append_json_string(out, selection::to_string(r.entry.configured_state));
  out += fmt::format(",\"set_by_admin\":{}", r.entry.set_by_admin ? "true" : "false");
  out += fmt::format(",\"health\":\"{}\"",
                     h.state == health::health_state::up ? "up" : "down");
  out += ",\"share\":";
  append_json_number(out, h.share);
  if (h.last_probe == 0) {
    out += ",\"last_check\":null,\"last_check_ok\":null";
  } else {
    out += fmt::format(",\"last_check\":{},\"last_check_ok\":{}", h.last_probe,
                       h.last_ok ? "true" : "false");
  }
  out += ",\"last_result\":";
  append_json_string(out, h.last_reason);
  out += fmt::format(",\"probes_ok\":{},\"probes_failed\":{}", h.probes_ok, h.probes_failed);
  out += ",\"redirects_per_minute\":";
  append_json_number(out, r.redirects_per_minute);
  out += fmt::format(",\"redirects_total\":{}}}", r.redirects_total);
}

}  // namespace

std::string render_mirror_json(const status_row& row) {
  std::string out;
  append_row_json(out, row);
  out += "\n";
  return out;
}

std::string render_status_json(const std::vector<status_row>& rows, std::int64_t now) {
  std::string out = fmt::format("{{\"generated\":{},\"mirrors\":[", now);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i) {
      out += ",";
    }
    append_row_json(out, rows[i]);
  }
  out += "]}\n";
  return out;
}

std::string render_status_html(const std::vector<status_row>& rows, std::int64_t now) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"refresh\" content=\"30\">\n<title>Regional mirrors</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
      ".up{color:#070}.down{color:#b00}.draining,.disabled{color:#850}</style>\n"
      "</head>\n<body>\n<h1>Regional mirrors</h1>\n"
      "<p>Clients should always use this server, which redirects image downloads to a regional "
      "mirror when one is close and healthy. Mirrors can change at any time.</p>\n"
      "<table>\n<thead><tr><th>Server</th><th>Location</th><th>Speed</th><th>Operator</th>"
      "<th>Notes</th><th>State</th><th>Health</th><th>Last check</th><th>Result</th>"
      "<th>Redirects/min</th></tr></thead>\n<tbody>\n";
  for (const auto& r : rows) {
    const auto& m = r.entry.mirror;
    const auto& h = r.entry.health;
    auto state = selection::to_string(m.state);
    auto health = h.state == health::health_state::up ? "up" : "down";
    out += fmt::format(
        "<tr id=\"mirror-{0}\"><td title=\"{0}\">{1}</td><td>{2}</td><td>{3}</td><td>{4}</td>"
        "<td>{5}</td><td class=\"{6}\">{6}{7}</td><td class=\"{8}\">{8}</td><td>{9}</td>"
        "<td>{10}</td><td>{11:.1f}</td></tr>\n",
        html(m.name), html(server_of(m)), html(place_of(m)), speed(m.capacity_mbps),
        html(m.operated_by), html(m.notes), state, r.entry.set_by_admin ? " (admin)" : "",
        health, ago(h.last_probe, now), html(h.last_reason), r.redirects_per_minute);
  }
  out += fmt::format("</tbody>\n</table>\n<p>As seen by this origin node; also as "
                     "<a href=\"mirrors.json\">JSON</a>. Generated at {} (unix time).</p>\n"
                     "</body>\n</html>\n",
                     now);
  return out;
}

}  // namespace lxcdn::origin
