#include "model/token_hash.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace booking {

namespace {

// `EVP_Digest` with `EVP_sha256()` allocates a context and looks the algorithm up in the provider
// store (a lock) on every call; a bearer token is hashed on every request.
const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md{EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                                                  &EVP_MD_free};
  if (!md)
    throw std::runtime_error("OpenSSL has no SHA-256");
  return md.get();
}

EVP_MD_CTX* thread_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free};
  if (!ctx)
    throw std::bad_alloc();
  return ctx.get();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

sha256_digest sha256(std::string_view text) {
  sha256_digest out{};
  auto* ctx = thread_context();
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1 || EVP_DigestUpdate(ctx, text.data(), text.size()) != 1
      || EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("SHA-256 failed");
  return out;
}

std::string to_hex(const sha256_digest& d) {
  static const char* hex = "0123456789abcdef";
  std::string out(d.size() * 2, '0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  return out;
}

std::optional<sha256_digest> digest_from_hex(std::string_view hex) {
  sha256_digest out{};
  if (hex.size() != out.size() * 2)
    return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

std::string sha256_hex(std::string_view text) {
  return to_hex(sha256(text));
}

} // namespace booking
