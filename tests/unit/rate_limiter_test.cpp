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

TEST_CASE("the group comes from the matched route: login routes are their own, other writes and reads apart",
          "[app][unit]") {
  eshop::http::Route login;
  login.throttle = eshop::http::Throttle::login;
  eshop::http::Route basket;
  CHECK(RateLimiter::group_of("POST", &login) == RateLimiter::Group::login);
  CHECK(RateLimiter::group_of("POST", &basket) == RateLimiter::Group::writes);
  CHECK(RateLimiter::group_of("GET", &basket) == RateLimiter::Group::reads);
  CHECK(RateLimiter::group_of("DELETE", nullptr) == RateLimiter::Group::writes);
  CHECK(RateLimiter::group_of("HEAD", nullptr) == RateLimiter::Group::reads);
}
