#pragma once

#include <gpgme.h>

#include <memory>
#include <optional>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <string_view>

#include "publish/publish_config.hpp"

namespace lxcdn::publish {

// A run that must not go on; the message is for the operator and names what is wrong.
class publish_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Signs and verifies with one OpenPGP secret key through GPGME (simplestreams-spec 5: `.sjson`
// clearsigned, `.json.gpg` armoured detached). Not thread-safe (one GPGME context); a value that
// owns the context and the key.
class signer {
 public:
  // Finds the secret key `settings.key` names (fingerprint, key id or user id; exactly one key
  // must match) in `settings.gnupg_home` (or the default home), checks that it can sign (not
  // revoked, expired, disabled or invalid) and signs a probe with it, so a missing passphrase
  // agent or an unusable key fails here, before the run writes anything. Throws publish_error.
  explicit signer(const signing_settings& settings);
  ~signer();
  signer(const signer&) = delete;
  signer& operator=(const signer&) = delete;

  const std::string& fingerprint() const { return fingerprint_; }

  // RFC 4880 cleartext-signed message whose body is `text`. Throws publish_error.
  std::string clearsign(std::string_view text);
  // ASCII-armoured detached signature of `data`. Throws publish_error.
  std::string detach_sign(std::string_view data);

  // nullopt when `signed_text` is a good clearsigned message by this key whose body is `body`
  // (trailing newlines aside); otherwise what is wrong.
  std::optional<std::string> verify_clearsigned(std::string_view signed_text, std::string_view body);
  // nullopt when `signature` is a good detached signature of `data` by this key.
  std::optional<std::string> verify_detached(std::string_view signature, std::string_view data);

 private:
  std::string sign(std::string_view data, gpgme_sig_mode_t mode);
  std::optional<std::string> check_verify_result();

  struct release_ctx {
    void operator()(gpgme_ctx_t c) const { gpgme_release(c); }
  };
  struct unref_key {
    void operator()(gpgme_key_t k) const { gpgme_key_unref(k); }
  };
  // Owned, so a constructor that throws half-way (no matching key, a key that cannot sign)
  // still releases what it had set up.
  std::unique_ptr<std::remove_pointer_t<gpgme_ctx_t>, release_ctx> ctx_;
  std::unique_ptr<std::remove_pointer_t<gpgme_key_t>, unref_key> key_;
  std::string fingerprint_;
  std::string name_;  // as configured, for messages
};

}  // namespace lxcdn::publish
