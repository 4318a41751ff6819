#pragma once
// Small text rules shared by the edge: header names and tokens compare case-insensitively (ASCII).
#include <algorithm>
#include <cctype>
#include <string_view>

namespace eshop {

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace eshop
