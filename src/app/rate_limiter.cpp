#include "app/rate_limiter.hpp"

#include <cmath>

namespace eshop::app {

RateLimiter::Group RateLimiter::group_of(std::string_view method, const http::Route* route) {
  if (route && route->throttle == http::Throttle::login) return Group::login;
  if (method == "GET" || method == "HEAD") return Group::reads;
  return Group::writes;
}

const RateLimit& RateLimiter::limit(Group g) const {
  switch (g) {
    case Group::login: return limits_.login;
    case Group::writes: return limits_.writes;
    case Group::reads: return limits_.reads;
  }
  return limits_.reads;
}

std::optional<std::int64_t> RateLimiter::take(const std::string& client, Group group) {
  const auto& l = limit(group);
  if (l.per_second <= 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  std::string key = client;
  key += static_cast<char>('0' + static_cast<int>(group));
  std::lock_guard lock(mutex_);
  if (buckets_.size() > 100000) buckets_.clear();  // bounded: forgetting buckets only forgives
  auto [it, fresh] = buckets_.try_emplace(std::move(key), Bucket{l.burst, now});
  auto& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(l.burst, b.tokens + elapsed * l.per_second);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::ceil((1 - b.tokens) / l.per_second));
}

}  // namespace eshop::app
