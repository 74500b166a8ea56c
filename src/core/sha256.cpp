#include "core/sha256.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

#include "core/unique_fd.hpp"

namespace lxcdn {

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: EVP_DigestInit_ex failed");
  }
}

sha256::sha256(const sha256& other) : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_MD_CTX_copy_ex(ctx_.get(), other.ctx_.get()) != 1) {
    throw std::runtime_error("sha256: EVP_MD_CTX_copy_ex failed");
  }
}

sha256& sha256::operator=(const sha256& other) {
  if (this != &other) {
    sha256 copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void sha256::update(std::span<const std::byte> data) {
  EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

void sha256::update(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }

std::string sha256::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = digits[md[i] >> 4];
    out[2 * i + 1] = digits[md[i] & 0xf];
  }
  return out;
}

std::error_code hash_file_into(const std::filesystem::path& path, sha256& h,
                               std::uint64_t* bytes_read) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return {errno, std::generic_category()};
  }
  std::vector<std::byte> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return {errno, std::generic_category()};
    }
    if (n == 0) {
      break;
    }
    h.update(std::span(buf.data(), static_cast<size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
  if (bytes_read) {
    *bytes_read = total;
  }
  return {};
}

std::string sha256_file(const std::filesystem::path& path) {
  sha256 h;
  if (auto ec = hash_file_into(path, h)) {
    throw std::system_error(ec, "cannot read " + path.string());
  }
  return h.hex_digest();
}

std::string sha256_hex(std::string_view data) {
  sha256 h;
  h.update(data);
  return h.hex_digest();
}

}  // namespace lxcdn
