#pragma once
// Time is injected: production uses the system clock, tests a manual one.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eshop {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void advance(std::chrono::seconds by) { now_ += std::chrono::duration_cast<TimePoint::duration>(by).count(); }
  void set(TimePoint t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

// RFC 3339 UTC with whole seconds: "2026-11-24T10:00:00Z".
std::string to_rfc3339(TimePoint t);
// RFC 3339 UTC with milliseconds: "2026-11-24T10:00:00.123Z" (a saga's steps share a second).
std::string to_rfc3339_ms(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" with a year from kMinYear to kMaxYear;
// nullopt for anything else.
inline constexpr int kMinYear = 1900;
inline constexpr int kMaxYear = 2200;
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace eshop
