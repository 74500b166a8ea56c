#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace lxcdn {

// Incremental SHA-256 (OpenSSL EVP). A value; not thread-safe. Copyable so a running state can be
// saved and resumed, which is how combined fingerprints over meta‖root reuse the meta prefix.
class sha256 {
 public:
  sha256();
  sha256(const sha256& other);
  sha256& operator=(const sha256& other);
  sha256(sha256&&) noexcept = default;
  sha256& operator=(sha256&&) noexcept = default;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  // Returns the lowercase hex digest. The object can no longer be updated afterwards.
  std::string hex_digest();

 private:
  struct ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, ctx_free> ctx_;
};

// Feeds the whole file at `path` into `h`. Returns the number of bytes read, or an error code.
std::error_code hash_file_into(const std::filesystem::path& path, sha256& h,
                               std::uint64_t* bytes_read = nullptr);

// Lowercase hex sha256 of a whole file; throws std::system_error naming the file on I/O failure.
std::string sha256_file(const std::filesystem::path& path);

std::string sha256_hex(std::string_view data);

}  // namespace lxcdn
