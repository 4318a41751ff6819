#include "login_guard.hpp"

#include <algorithm>

namespace eshop::identity {

std::int64_t LoginGuard::wait_for(const std::string& email) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = records_.find(email);
  if (it == records_.end() || it->second.next_try <= now) return 0;
  const auto left = std::chrono::ceil<std::chrono::seconds>(it->second.next_try - now).count();
  return std::max<std::int64_t>(1, left);
}

void LoginGuard::failed(const std::string& email) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  if (records_.size() >= kMaxAccounts && !records_.count(email)) forget_stale(now);
  auto& r = records_[email];
  if (r.failures > 0 && now - r.last_failure >= kForgetAfter) r = Record{};
  ++r.failures;
  r.last_failure = now;
  if (r.failures >= kFreeFailures) {
    const int doublings = std::min(r.failures - kFreeFailures, 16);
    const auto delay = std::min<std::chrono::seconds>(std::chrono::seconds(1LL << doublings), kMaxDelay);
    r.next_try = now + delay;
  }
}

void LoginGuard::succeeded(const std::string& email) {
  std::lock_guard lock(mutex_);
  records_.erase(email);
}

void LoginGuard::forget_stale(TimePoint now) {
  std::erase_if(records_, [&](const auto& entry) { return now - entry.second.last_failure >= kForgetAfter; });
  // Still full: a flood of distinct emails. Forgetting only forgives; it never locks anyone out.
  if (records_.size() >= kMaxAccounts) records_.clear();
}

}  // namespace eshop::identity
