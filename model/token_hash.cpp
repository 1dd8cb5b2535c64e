#include "model/token_hash.hpp"

#include <stdexcept>

// OpenSSL 3 marks its low-level digest functions deprecated in favour of EVP, and keeps them. The
// EVP path costs a bearer token about 1 µs on every request in the warm page's profile (provider
// and engine look-ups, a provider context allocated, cleansed and freed per digest, spread over a
// dozen functions); `SHA256_Init/Update/Final` hash on the caller's stack with none of that and the
// same implementation (SHA-NI where the CPU has it). The one-shot `SHA256()` is no way round: in
// OpenSSL 3 it fetches the algorithm through EVP on every call. docs/BENCHMARKS.md, "Token hash".
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace booking {

namespace {

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
  SHA256_CTX c;
  if (SHA256_Init(&c) != 1 || SHA256_Update(&c, text.data(), text.size()) != 1 || SHA256_Final(out.data(), &c) != 1)
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
