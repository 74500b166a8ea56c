#include "publish/signer.hpp"

#include <cstdlib>

namespace lxcdn::publish {

namespace {

std::string error_text(gpgme_error_t err) {
  return gpgme_strerror(err);
}

// Owns a gpgme_data_t.
struct data_handle {
  gpgme_data_t d = nullptr;
  data_handle() {
    if (auto err = gpgme_data_new(&d)) {
      throw publish_error("gpgme: " + error_text(err));
    }
  }
  explicit data_handle(std::string_view bytes) {
    if (auto err = gpgme_data_new_from_mem(&d, bytes.data(), bytes.size(), 1)) {
      throw publish_error("gpgme: " + error_text(err));
    }
  }
  ~data_handle() {
    if (d) {
      gpgme_data_release(d);
    }
  }
  data_handle(const data_handle&) = delete;
  data_handle& operator=(const data_handle&) = delete;
  // The bytes written to it; the handle is empty afterwards.
  std::string take() {
    std::size_t len = 0;
    char* mem = gpgme_data_release_and_get_mem(d, &len);
    d = nullptr;
    std::string out(mem ? mem : "", mem ? len : 0);
    gpgme_free(mem);
    return out;
  }
};

std::string_view trim_newlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

signer::signer(const signing_settings& settings) : name_(settings.key) {
  gpgme_check_version(nullptr);
  gpgme_ctx_t ctx = nullptr;
  if (auto err = gpgme_new(&ctx)) {
    throw publish_error("signing: cannot start GPGME: " + error_text(err));
  }
  ctx_.reset(ctx);
  gpgme_set_protocol(ctx_.get(), GPGME_PROTOCOL_OpenPGP);
  if (!settings.gnupg_home.empty()) {
    if (auto err = gpgme_ctx_set_engine_info(ctx_.get(), GPGME_PROTOCOL_OpenPGP, nullptr,
                                             settings.gnupg_home.c_str())) {
      throw publish_error("signing: gnupg_home " + settings.gnupg_home.string() + ": " +
                          error_text(err));
    }
  }
  // No passphrase prompts: a publisher runs unattended. A protected key without an unlocked
  // agent fails the probe signature below.
  gpgme_set_pinentry_mode(ctx_.get(), GPGME_PINENTRY_MODE_LOOPBACK);
  gpgme_set_armor(ctx_.get(), 1);

  if (auto err = gpgme_op_keylist_start(ctx_.get(), settings.key.c_str(), 1)) {
    throw publish_error("signing: cannot list secret keys: " + error_text(err));
  }
  gpgme_key_t k = nullptr;
  int found = 0;
  while (gpgme_op_keylist_next(ctx_.get(), &k) == 0) {
    ++found;
    if (key_ == nullptr) {
      key_.reset(k);
    } else {
      gpgme_key_unref(k);
    }
  }
  gpgme_op_keylist_end(ctx_.get());
  if (found == 0) {
    throw publish_error("signing: no secret key matches '" + settings.key + "'" +
                        (settings.gnupg_home.empty() ? std::string()
                                                     : " in " + settings.gnupg_home.string()));
  }
  if (found > 1) {
    throw publish_error("signing: '" + settings.key + "' matches " + std::to_string(found) +
                        " secret keys; name one by its fingerprint");
  }
  fingerprint_ = key_->fpr ? key_->fpr : "";
  if (key_->revoked || key_->expired || key_->disabled || key_->invalid || !key_->can_sign) {
    throw publish_error("signing: key '" + settings.key + "' (" + fingerprint_ +
                        ") cannot sign (revoked, expired, disabled or without a signing subkey)");
  }
  gpgme_signers_clear(ctx_.get());
  if (auto err = gpgme_signers_add(ctx_.get(), key_.get())) {
    throw publish_error("signing: " + error_text(err));
  }
  auto probe = detach_sign("lxcdn publish signing probe\n");
  if (auto bad = verify_detached(probe, "lxcdn publish signing probe\n")) {
    throw publish_error("signing: the probe signature does not verify: " + *bad);
  }
}

signer::~signer() = default;

std::string signer::sign(std::string_view data, gpgme_sig_mode_t mode) {
  data_handle in(data);
  data_handle out;
  if (auto err = gpgme_op_sign(ctx_.get(), in.d, out.d, mode)) {
    throw publish_error("signing with '" + name_ + "' failed: " + error_text(err));
  }
  auto* result = gpgme_op_sign_result(ctx_.get());
  if (!result || result->invalid_signers || !result->signatures) {
    throw publish_error("signing with '" + name_ + "' failed: the key was not used");
  }
  return out.take();
}

std::string signer::clearsign(std::string_view text) {
  return sign(text, GPGME_SIG_MODE_CLEAR);
}

std::string signer::detach_sign(std::string_view data) {
  return sign(data, GPGME_SIG_MODE_DETACH);
}

std::optional<std::string> signer::check_verify_result() {
  auto* result = gpgme_op_verify_result(ctx_.get());
  if (!result || !result->signatures) {
    return std::string("no signature found");
  }
  for (auto* s = result->signatures; s; s = s->next) {
    if (gpg_err_code(s->status) != GPG_ERR_NO_ERROR) {
      return std::string("bad signature: ") + error_text(s->status);
    }
    if (!s->fpr || fingerprint_.find(s->fpr) == std::string::npos) {
      return std::string("signed by ") + (s->fpr ? s->fpr : "?") + ", not by " + fingerprint_;
    }
  }
  return std::nullopt;
}

std::optional<std::string> signer::verify_clearsigned(std::string_view signed_text,
                                                      std::string_view body) {
  data_handle sig(signed_text);
  data_handle plain;
  if (auto err = gpgme_op_verify(ctx_.get(), sig.d, nullptr, plain.d)) {
    return "cannot verify: " + error_text(err);
  }
  if (auto bad = check_verify_result()) {
    return bad;
  }
  auto text = plain.take();
  if (trim_newlines(text) != trim_newlines(body)) {
    return std::string("the signed body differs from the document");
  }
  return std::nullopt;
}

std::optional<std::string> signer::verify_detached(std::string_view signature,
                                                   std::string_view data) {
  data_handle sig(signature);
  data_handle signed_data(data);
  if (auto err = gpgme_op_verify(ctx_.get(), sig.d, signed_data.d, nullptr)) {
    return "cannot verify: " + error_text(err);
  }
  return check_verify_result();
}

}  // namespace lxcdn::publish
