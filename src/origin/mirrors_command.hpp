#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace lxcdn::origin {

// `lxcdn mirrors list|show|drain|enable|disable [NAME]`: a client of the origin's admin API
// (docs/operations.md).
struct mirrors_options {
  std::string action;  // list, show, drain, enable or disable
  std::string name;    // the mirror (every action but list)
  // Where the admin API is: `--admin http://ADDRESS:PORT`, else `admin.listen` of `--config`,
  // else http://127.0.0.1:9180.
  std::string admin_url;
  // The token: `--token-file`, else `admin.token_file` of `--config`, else $LXCDN_ADMIN_TOKEN.
  std::filesystem::path token_file;
  std::filesystem::path config;  // `--config`: the origin's YAML
  bool json = false;             // print the API's JSON as it came
  std::chrono::milliseconds timeout{10'000};  // connect + request + response
};

// What the command prints and its exit status: 0 done; 1 the API refused or could not be
// reached (unknown mirror, bad token, connection refused, timeout); 2 bad arguments or config.
struct mirrors_outcome {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};

mirrors_outcome run_mirrors_command(const mirrors_options& options);

// The admin API's mirror list (its JSON) as a table, one mirror per line:
// NAME  STATE  HEALTH  LAST CHECK  REDIRECTS/MIN  RESULT. Pure; `now` is unix seconds. Returns ""
// when `json` is not a mirror list.
std::string render_mirror_table(const std::string& json, std::int64_t now);

// "http://127.0.0.1:9180" from admin.listen's address and port (IPv6 in brackets). Pure.
std::string admin_url_of(const std::string& address, unsigned port);

}  // namespace lxcdn::origin
