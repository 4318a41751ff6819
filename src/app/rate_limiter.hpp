#pragma once
// Throttling at the edge: a token bucket per client (IP address) and route group.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <eshop/router.hpp>

namespace eshop::app {

struct RateLimit {
  double burst = 0;       // bucket size
  double per_second = 0;  // refill; 0 switches the limit off
};

struct RateLimits {
  // Login and registration: a password guesser gets a handful of tries, then one every 2 s.
  RateLimit login{10, 0.5};
  RateLimit writes{200, 100};   // other non-GET requests
  RateLimit reads{2000, 1000};  // GET and HEAD
};

class RateLimiter final {
 public:
  explicit RateLimiter(RateLimits limits) : limits_(limits) {}

  enum class Group { login, writes, reads };
  // From the route that matched (never from the raw target, which can be spelled many ways); a
  // request that matched no route here (proxied, or 404) counts as a read or a write by its method.
  static Group group_of(std::string_view method, const http::Route* route);

  // Takes a token for `client` in `group`; when none is left, the seconds until one is.
  std::optional<std::int64_t> take(const std::string& client, Group group);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  const RateLimit& limit(Group g) const;

  RateLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace eshop::app
