#include "net/tls_context.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "core/config_error.hpp"
#include "core/key_permissions.hpp"

namespace lxcdn::net {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  if (e == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const tls_files& files) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  // TLS 1.3 is what LXD and Incus require (simplestreams-spec §2.5); 1.2 stays for curl, wget
  // and older tools.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Our order, not the client's: AES-128-GCM first. It is as safe for this purpose and about a
  // third cheaper per byte than AES-256-GCM (what OpenSSL clients list first), and bulk image
  // bytes over HTTPS are where a server's CPU goes when the kernel has no kTLS.
  SSL_CTX_set_cipher_list(native, "ECDHE+AES128GCM:ECDHE+AESGCM:ECDHE+CHACHA20");
  SSL_CTX_set_ciphersuites(native,
                           "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                           "TLS_CHACHA20_POLY1305_SHA256");
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  // OpenSSL's record buffers (about 34 KiB per connection) are freed while a connection has
  // nothing buffered, so an idle keep-alive connection does not hold them (nginx does the same);
  // a bulk transfer pays one allocation per SSL_write call of up to 256 KiB.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // Resumption only when the operator asks for it (tls_files::session_tickets): LXD and Incus,
  // the clients this serves, never resume, and a ticket costs about a sixth of a full handshake.
  SSL_CTX_set_num_tickets(native, files.session_tickets);
  if (files.session_tickets == 0) {
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);  // TLS 1.2: no RFC 5077 tickets either
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  }
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate.c_str()) != 1) {
    throw config_error(fmt::format("{}: cannot load certificate chain: {}",
                                   files.certificate.string(), openssl_reason()));
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw config_error(
        fmt::format("{}: cannot load private key: {}", files.key.string(), openssl_reason()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw config_error(fmt::format("{}: private key does not match certificate {}",
                                   files.key.string(), files.certificate.string()));
  }
  return ctx;
}

namespace {

// A warning when someone besides this process and root can read the private key
// (core/key_permissions.hpp), logged when the key is loaded and on each reload. Not an error: a
// key others can read still works, refusing it would stop a running setup at its next restart,
// and some setups share a key on purpose (docs/errors.md).
void warn_about_key_permissions(const std::filesystem::path& key) {
  if (auto warning = key_permission_warning(key, "TLS private key")) {
    spdlog::warn("{}", *warning);
  }
}

}  // namespace

tls_context_store::tls_context_store(tls_files files)
    : files_(std::move(files)), current_(make_server_tls_context(files_)) {
  warn_about_key_permissions(files_.key);
}

std::shared_ptr<ssl::context> tls_context_store::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::string tls_context_store::reload() {
  try {
    auto fresh = make_server_tls_context(files_);
    warn_about_key_permissions(files_.key);
    std::lock_guard lock(mutex_);
    current_ = std::move(fresh);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace lxcdn::net
