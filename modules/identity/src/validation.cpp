#include "validation.hpp"

#include <algorithm>
#include <cctype>

namespace eshop::identity {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string normalize_email(std::string_view email) {
  std::string out = trim(email);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_valid_email(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) return false;
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || e.find('@', at + 1) != std::string_view::npos) return false;
  const auto local = e.substr(0, at);
  const auto domain = e.substr(at + 1);
  const auto bad_char = [](unsigned char c) { return c <= ' ' || c == 0x7f || c == '(' || c == ')' || c == ',' ||
                                                      c == ':' || c == ';' || c == '<' || c == '>' || c == '[' ||
                                                      c == ']' || c == '\\' || c == '"'; };
  if (std::any_of(e.begin(), e.end(), bad_char)) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.' || domain.front() == '-' ||
      domain.find("..") != std::string_view::npos)
    return false;
  return true;
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

FieldErrors validate_registration(std::string_view email, std::string_view password, std::string_view name) {
  FieldErrors errors;
  if (!is_valid_email(email)) errors["email"].push_back("must be a valid email address");
  if (utf8_length(password) < kMinPasswordLength) errors["password"].push_back("must be at least 8 characters");
  if (password.size() > kMaxPasswordBytes) errors["password"].push_back("must be at most 1024 bytes");
  const auto trimmed = trim(name);
  if (trimmed.empty()) errors["name"].push_back("must not be empty");
  if (utf8_length(trimmed) > kMaxNameLength) errors["name"].push_back("must be at most 100 characters");
  return errors;
}

}  // namespace eshop::identity
