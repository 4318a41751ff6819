#include <catch2/catch.hpp>

#include <thread>

#include "app/rate_limiter.hpp"

using eshop::app::RateLimiter;

TEST_CASE("a client gets its burst, then a Retry-After in whole seconds", "[app][unit]") {
  RateLimiter limiter({{3, 0.5}, {0, 0}, {0, 0}});
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.take("10.0.0.1", RateLimiter::Group::login));
  CHECK(limiter.take("10.0.0.1", RateLimiter::Group::login) == 2);  // one token at 0.5/s: 2 s
  CHECK_FALSE(limiter.take("10.0.0.2", RateLimiter::Group::login));  // another client has its own bucket
  CHECK_FALSE(limiter.take("10.0.0.1", RateLimiter::Group::reads));  // reads are not limited here
}

TEST_CASE("tokens come back at the configured rate", "[app][unit]") {
  RateLimiter limiter({{0, 0}, {1, 50}, {0, 0}});
  CHECK_FALSE(limiter.take("c", RateLimiter::Group::writes));
  CHECK(limiter.take("c", RateLimiter::Group::writes) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));  // 50/s: a token every 20 ms
  CHECK_FALSE(limiter.take("c", RateLimiter::Group::writes));
}

TEST_CASE("login and registration are their own group, other writes and reads are apart", "[app][unit]") {
  CHECK(RateLimiter::group_of("POST", "/api/v1/identity/login") == RateLimiter::Group::login);
  CHECK(RateLimiter::group_of("POST", "/api/v1/identity/register") == RateLimiter::Group::login);
  CHECK(RateLimiter::group_of("POST", "/api/v1/basket/items") == RateLimiter::Group::writes);
  CHECK(RateLimiter::group_of("GET", "/api/v1/catalog/products") == RateLimiter::Group::reads);
}
