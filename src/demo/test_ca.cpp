#include "demo/test_ca.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "core/atomic_file.hpp"
#include "core/unique_fd.hpp"

namespace lxcdn::demo {

namespace fs = std::filesystem;

namespace {

template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION_free>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX_free>>;

constexpr long ca_days = 3650;
constexpr long server_days = 365;
constexpr long ca_margin_days = 30;
constexpr long server_margin_days = 7;

// Throws with the queued OpenSSL errors appended.
[[noreturn]] void openssl_fail(const std::string& what) {
  std::string msg = "test CA: " + what;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += std::string("; ") + buf;
  }
  throw std::runtime_error(msg);
}

void check(int ok, const std::string& what) {
  if (ok <= 0) {
    openssl_fail(what);
  }
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

pkey_ptr new_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) {
    openssl_fail("cannot generate a P-256 key");
  }
  return key;
}

void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ext_ptr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext) {
    openssl_fail("cannot make extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  }
  check(X509_add_ext(cert, ext.get(), -1), "cannot add extension");
}

// A new certificate for `key` with subject CN=`cn`, signed by `issuer_key` (self-signed when
// `issuer` is null). `extensions` are (nid, value) pairs in openssl.cnf syntax.
x509_ptr make_certificate(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                          long days, const std::vector<std::pair<int, std::string>>& extensions) {
  x509_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");

  bn_ptr serial(BN_new());
  check(BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr,
        "serial number");

  // Back-date by an hour so a client whose clock is slightly behind still accepts it.
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
  check(X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, nullptr) !=
            nullptr,
        "notAfter");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");

  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("lxcdn demo"), -1, -1, 0),
        "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        "subject CN");
  X509* signer = issuer ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "issuer name");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    add_ext(cert.get(), &ctx, nid, value);
  }
  check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()), "X509_sign");
  return cert;
}

std::string pem_of(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Like write_file_atomically, but the file is created with mode 0600 from the start.
void write_secret_file(const fs::path& path, const std::string& contents) {
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    // A PEM key is a few hundred bytes: one write; a short one can only mean a full disk.
    ssize_t n = fd ? ::write(fd.get(), contents.data(), contents.size()) : -1;
    if (n != static_cast<ssize_t>(contents.size())) {
      int saved = n < 0 ? errno : ENOSPC;
      ::unlink(tmp.c_str());
      throw std::system_error(saved, std::generic_category(), "cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, path);
}

// The first PEM object of the file read with `Read` (PEM_read_bio_X509, ...), or null if the file
// is missing or holds no such object.
template <class Ptr, auto Read>
Ptr read_pem(const fs::path& path) {
  bio_ptr bio(BIO_new_file(path.c_str(), "r"));
  Ptr object(bio ? Read(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return object;
}

x509_ptr read_certificate(const fs::path& path) {
  return read_pem<x509_ptr, PEM_read_bio_X509>(path);
}

pkey_ptr read_key(const fs::path& path) {
  return read_pem<pkey_ptr, PEM_read_bio_PrivateKey>(path);
}

// Valid now, and still valid `margin_days` from now.
bool valid_for(X509* cert, long margin_days) {
  std::time_t later = std::time(nullptr) + margin_days * 86400;
  return X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
         X509_cmp_time(X509_get0_notAfter(cert), &later) > 0;
}

bool ca_fits(const test_ca_files& f) {
  auto cert = read_certificate(f.ca_certificate);
  auto key = read_key(f.ca_key);
  bool ok = cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
            X509_check_ca(cert.get()) == 1 && valid_for(cert.get(), ca_margin_days);
  ERR_clear_error();
  return ok;
}

bool chains_to(X509* leaf, X509* ca) {
  store_ptr store(X509_STORE_new());
  store_ctx_ptr ctx(X509_STORE_CTX_new());
  bool ok = store && ctx && X509_STORE_add_cert(store.get(), ca) == 1 &&
            X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) == 1 &&
            X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

bool names_all(X509* cert, const std::vector<std::string>& hosts) {
  for (const auto& h : hosts) {
    int r = is_ip_literal(h) ? X509_check_ip_asc(cert, h.c_str(), 0)
                             : X509_check_host(cert, h.c_str(), h.size(), 0, nullptr);
    if (r != 1) {
      return false;
    }
  }
  return true;
}

}  // namespace

test_ca_files test_ca_paths(const fs::path& dir) {
  return {dir / "ca.crt", dir / "ca.key", dir / "server.crt", dir / "server.key"};
}

bool server_certificate_fits(const test_ca_files& f, const std::vector<std::string>& hosts) {
  auto ca = read_certificate(f.ca_certificate);
  auto cert = read_certificate(f.certificate);
  auto key = read_key(f.key);
  bool ok = ca && cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
            chains_to(cert.get(), ca.get()) && names_all(cert.get(), hosts) &&
            valid_for(cert.get(), server_margin_days);
  ERR_clear_error();
  return ok;
}

test_ca_files ensure_test_ca(const fs::path& dir, const std::vector<std::string>& hosts) {
  if (hosts.empty()) {
    throw std::invalid_argument("test CA: a server certificate needs at least one host");
  }
  fs::create_directories(dir);
  auto f = test_ca_paths(dir);

  bool new_ca = !ca_fits(f);
  if (new_ca) {
    auto key = new_key();
    auto cert = make_certificate(key.get(), "lxcdn demo CA", nullptr, nullptr, ca_days,
                                 {{NID_basic_constraints, "critical,CA:TRUE"},
                                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                  {NID_subject_key_identifier, "hash"}});
    write_secret_file(f.ca_key, pem_of(key.get()));
    write_file_atomically(f.ca_certificate, pem_of(cert.get()));
  }
  if (new_ca || !server_certificate_fits(f, hosts)) {
    auto ca = read_certificate(f.ca_certificate);
    auto ca_key = read_key(f.ca_key);
    if (!ca || !ca_key) {
      openssl_fail("cannot read back " + f.ca_certificate.string());
    }
    std::string san;
    for (const auto& h : hosts) {
      san += (san.empty() ? "" : ",") + std::string(is_ip_literal(h) ? "IP:" : "DNS:") + h;
    }
    auto key = new_key();
    auto cert = make_certificate(key.get(), hosts.front(), ca.get(), ca_key.get(), server_days,
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_key_usage, "critical,digitalSignature"},
                                  {NID_ext_key_usage, "serverAuth"},
                                  {NID_subject_alt_name, san},
                                  {NID_subject_key_identifier, "hash"},
                                  {NID_authority_key_identifier, "keyid:always"}});
    write_secret_file(f.key, pem_of(key.get()));
    write_file_atomically(f.certificate, pem_of(cert.get()) + pem_of(ca.get()));
  }
  return f;
}

}  // namespace lxcdn::demo
