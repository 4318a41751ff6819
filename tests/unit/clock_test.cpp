#include <catch2/catch.hpp>

#include <eshop/clock.hpp>

using namespace eshop;

TEST_CASE("times format as RFC 3339 UTC with whole seconds", "[kernel][unit]") {
  const auto t = parse_rfc3339("2026-11-24T10:00:00Z");
  REQUIRE(t);
  CHECK(to_rfc3339(*t) == "2026-11-24T10:00:00Z");
  CHECK(to_rfc3339(*t + std::chrono::milliseconds(999)) == "2026-11-24T10:00:00Z");
  CHECK(to_rfc3339(*parse_rfc3339("2099-12-31T23:59:59Z")) == "2099-12-31T23:59:59Z");
  CHECK(to_rfc3339(TimePoint{}) == "1970-01-01T00:00:00Z");
  CHECK(to_rfc3339_ms(TimePoint{} - std::chrono::milliseconds(1)) == "1969-12-31T23:59:59.999Z");
  CHECK(to_rfc3339_ms(*parse_rfc3339("2024-02-29T23:59:59Z") + std::chrono::milliseconds(123)) ==
        "2024-02-29T23:59:59.123Z");
}

TEST_CASE("RFC 3339 offsets and fractions are understood", "[kernel][unit]") {
  CHECK(to_rfc3339(*parse_rfc3339("2026-11-24T12:30:00+02:30")) == "2026-11-24T10:00:00Z");
  CHECK(to_rfc3339(*parse_rfc3339("2024-02-29T23:59:59.123Z")) == "2024-02-29T23:59:59Z");
}

TEST_CASE("malformed times are refused", "[kernel][unit]") {
  CHECK_FALSE(parse_rfc3339("2026-11-24"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-24T25:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-24T10:00:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-24T10:00:00Zjunk"));
}

TEST_CASE("years a time point cannot hold are refused, not overflowed", "[kernel][unit]") {
  // Found by fuzzing the event envelope: year 9999 overflowed the nanosecond count.
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59Z"));
  CHECK_FALSE(parse_rfc3339("1899-12-31T23:59:59Z"));
  CHECK(to_rfc3339(*parse_rfc3339("2200-12-31T23:59:59Z")) == "2200-12-31T23:59:59Z");
  CHECK(to_rfc3339(*parse_rfc3339("1900-01-01T00:00:00Z")) == "1900-01-01T00:00:00Z");
}

TEST_CASE("a manual clock moves only when told", "[kernel][unit]") {
  ManualClock clock(*parse_rfc3339("2026-01-01T00:00:00Z"));
  clock.advance(std::chrono::hours(25));
  CHECK(to_rfc3339(clock.now()) == "2026-01-02T01:00:00Z");
}

TEST_CASE("times can carry milliseconds", "[kernel][unit]") {
  const auto t = *parse_rfc3339("2026-11-24T10:00:00Z") + std::chrono::milliseconds(7);
  CHECK(to_rfc3339_ms(t) == "2026-11-24T10:00:00.007Z");
  CHECK(to_rfc3339(*parse_rfc3339(to_rfc3339_ms(t))) == "2026-11-24T10:00:00Z");
}
