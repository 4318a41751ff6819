#include <eshop/payment.hpp>

#include <cctype>

namespace eshop::card {

std::string digits_only(std::string_view number) {
  std::string out;
  for (char c : number) {
    if (std::isdigit(static_cast<unsigned char>(c))) out.push_back(c);
    else if (c != ' ' && c != '-') return {};
  }
  return out;
}

bool luhn_valid(std::string_view digits) {
  if (digits.size() < 12 || digits.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!std::isdigit(static_cast<unsigned char>(*it))) return false;
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string brand_of(std::string_view d) {
  auto prefix = [&](std::size_t n) { return d.size() >= n ? std::stoi(std::string(d.substr(0, n))) : -1; };
  if (d.starts_with("4")) return "visa";
  if ((prefix(2) >= 51 && prefix(2) <= 55) || (prefix(4) >= 2221 && prefix(4) <= 2720)) return "mastercard";
  if (d.starts_with("34") || d.starts_with("37")) return "amex";
  if (d.starts_with("6011") || d.starts_with("65")) return "discover";
  return "unknown";
}

}  // namespace eshop::card
