#pragma once
// Argon2id password hashing (libsodium). Hashes are self-describing encoded strings.
#include <cstddef>
#include <string>
#include <string_view>

namespace eshop::identity {

class PasswordHasher final {
 public:
  PasswordHasher(unsigned long long ops_limit, std::size_t mem_limit);
  std::string hash(std::string_view password) const;
  bool verify(std::string_view encoded_hash, std::string_view password) const;
  // Runs a verification against a fixed hash, so an unknown email costs as much as a wrong password.
  void verify_dummy(std::string_view password) const;

 private:
  unsigned long long ops_;
  std::size_t mem_;
  std::string dummy_;
};

}  // namespace eshop::identity
