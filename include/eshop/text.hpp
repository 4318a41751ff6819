#pragma once
// Small text rules shared by the edge: header names and tokens compare case-insensitively (ASCII).
#include <algorithm>
#include <cctype>
#include <string_view>

namespace eshop {

// ASCII only, without std::tolower's locale lookup per character: header names are looked up
// several times per request.
inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace eshop
