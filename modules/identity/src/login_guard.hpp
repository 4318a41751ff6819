#pragma once
// Failed logins are limited per account, not only per client address: a guesser spread over many
// addresses still waits. Progressive delays (OWASP's authentication cheat sheet), never a lockout:
// the first kFreeFailures failures cost nothing, then each one doubles the wait, up to kMaxDelay,
// so an attacker can slow a real user down by at most that long. A success, or kForgetAfter
// without failures, clears the account's record. Unknown emails are counted the same way, so the
// answer never tells whether an account exists.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include <eshop/clock.hpp>

namespace eshop::identity {

class LoginGuard final {
 public:
  static constexpr int kFreeFailures = 5;
  static constexpr std::chrono::seconds kMaxDelay{60};
  static constexpr std::chrono::minutes kForgetAfter{15};
  static constexpr std::size_t kMaxAccounts = 100000;

  explicit LoginGuard(const Clock& clock) : clock_(clock) {}

  // Seconds until `email` may try again, or 0 when it may try now.
  std::int64_t wait_for(const std::string& email);
  void failed(const std::string& email);
  void succeeded(const std::string& email);

 private:
  struct Record {
    int failures = 0;
    TimePoint last_failure;
    TimePoint next_try;
  };
  void forget_stale(TimePoint now);

  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Record> records_;
};

}  // namespace eshop::identity
