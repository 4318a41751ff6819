#include "password.hpp"

#include <stdexcept>

#include <sodium.h>

namespace eshop::identity {

PasswordHasher::PasswordHasher(unsigned long long ops_limit, std::size_t mem_limit) : ops_(ops_limit), mem_(mem_limit) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  dummy_ = hash("a password nobody has");
}

std::string PasswordHasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops_, mem_, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool PasswordHasher::verify(std::string_view encoded_hash, std::string_view password) const {
  const std::string h(encoded_hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

void PasswordHasher::verify_dummy(std::string_view password) const { (void)verify(dummy_, password); }

}  // namespace eshop::identity
