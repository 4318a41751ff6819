#pragma once
// A transparent hash for maps keyed by std::string: find() takes a string_view without building
// a std::string (use with std::equal_to<>).
#include <cstddef>
#include <functional>
#include <string_view>

namespace eshop {

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace eshop
