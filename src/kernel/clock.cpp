#include <eshop/clock.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace eshop {

namespace {

// Digits written by hand: snprintf's format parsing was 3 % of an order's instructions (every
// event, inbox row and timeline entry carries a timestamp).
void put_digits(char* at, int value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

// "YYYY-MM-DDTHH:MM:SS" into `out` (19 characters), for years 0..9999 (clamped to that range).
void put_date_time(char* out, std::chrono::sys_seconds secs) {
  using namespace std::chrono;
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss hms(secs - day);
  put_digits(out, std::clamp(static_cast<int>(ymd.year()), 0, 9999), 4);
  out[4] = '-';
  put_digits(out + 5, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  out[7] = '-';
  put_digits(out + 8, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  out[10] = 'T';
  put_digits(out + 11, static_cast<int>(hms.hours().count()), 2);
  out[13] = ':';
  put_digits(out + 14, static_cast<int>(hms.minutes().count()), 2);
  out[16] = ':';
  put_digits(out + 17, static_cast<int>(hms.seconds().count()), 2);
}

}  // namespace

std::string to_rfc3339(TimePoint t) {
  char buf[20];
  put_date_time(buf, std::chrono::floor<std::chrono::seconds>(t));
  buf[19] = 'Z';
  return std::string(buf, 20);
}

std::string to_rfc3339_ms(TimePoint t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  char buf[24];
  put_date_time(buf, std::chrono::floor<std::chrono::seconds>(ms));
  buf[19] = '.';
  put_digits(buf + 20, static_cast<int>((ms.time_since_epoch().count() % 1000 + 1000) % 1000), 3);
  buf[23] = 'Z';
  return std::string(buf, 24);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Years a TimePoint (nanoseconds since 1970 in 64 bits: 1678 to 2262) holds with room to spare;
  // year 9999 used to overflow (found by fuzzing).
  if (y < kMinYear || y > kMaxYear) return std::nullopt;
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const auto start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(std::min(se, 59)) - minutes(offset_minutes);
  return time_point_cast<TimePoint::duration>(t);
}

}  // namespace eshop
