#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "origin/routing_store.hpp"

namespace lxcdn::origin {

// One line of the mirror table.
struct status_row {
  mirror_entry entry;
  double redirects_per_minute = 0;  // over the last minute (origin_metrics)
  std::uint64_t redirects_total = 0;
};

// The public status page (`/.lxcdn/mirrors`): an HTML table like the mirror list of the
// operators' announcement (server, location, speed, operator, notes) plus what this origin node
// sees: operator state, health, last check (time and result), redirects per minute. `now` is unix
// seconds, for "12 s ago". Pure; every configured text is HTML-escaped.
std::string render_status_html(const std::vector<status_row>& rows, std::int64_t now);

// The same as one JSON object (`/.lxcdn/mirrors.json` and the admin API's list):
// {"generated":UNIX,"mirrors":[{"name":..,"http":..|null,"https":..|null,"place":..,
//   "country":..,"continent":..,"latitude":..,"longitude":..,"capacity_mbps":..,
//   "operator":..|null,"notes":..|null,"weight":..,"state":"active|draining|disabled",
//   "configured_state":..,"set_by_admin":bool,"health":"up|down","share":..,
//   "last_check":UNIX|null,"last_check_ok":bool|null,"last_result":..,"probes_ok":..,
//   "probes_failed":..,"redirects_per_minute":..,"redirects_total":..},..]}
// Pure.
std::string render_status_json(const std::vector<status_row>& rows, std::int64_t now);

// One mirror's JSON object as above (the admin API's answer to a state change).
std::string render_mirror_json(const status_row& row);

}  // namespace lxcdn::origin
