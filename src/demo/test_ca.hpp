#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lxcdn::demo {

// Where ensure_test_ca() keeps its files.
struct test_ca_files {
  std::filesystem::path
      ca_certificate;                 // DIR/ca.crt: the root to trust (SSL_CERT_FILE, servercerts)
  std::filesystem::path ca_key;       // DIR/ca.key (0600)
  std::filesystem::path certificate;  // DIR/server.crt: server leaf then the CA (a chain)
  std::filesystem::path key;          // DIR/server.key (0600)
};

// The file names under `dir`; nothing is read or written.
test_ca_files test_ca_paths(const std::filesystem::path& dir);

// Makes sure `dir` holds a local test CA (ECDSA P-256, 10 years) and a server certificate it
// signed (ECDSA P-256, 1 year, serverAuth) whose subjectAltName lists every entry of `hosts` (IP
// literals as IP SANs, names as DNS SANs). Existing files are kept when they still fit: the CA is
// reused if its key matches and it is valid for 30 more days; the server certificate if its key
// matches, it chains to that CA, names every host and is valid for 7 more days. Otherwise the part
// that does not fit is made anew (a new CA implies a new server certificate). Keys are written
// with mode 0600, every file by temp file + rename. Uses OpenSSL's C API; throws
// std::runtime_error with OpenSSL's error text on failure.
test_ca_files ensure_test_ca(const std::filesystem::path& dir,
                             const std::vector<std::string>& hosts);

// True if `files` currently pass the reuse checks above for `hosts` (used by tests).
bool server_certificate_fits(const test_ca_files& files, const std::vector<std::string>& hosts);

}  // namespace lxcdn::demo
