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

// For caches keyed by long texts that differ early or late, such as SQL statements looked up on
// every call: hashes the length and at most 32 bytes from each end, not every byte (a statement's
// text is 100-400 bytes; hashing it whole was 3 % of a basket write). Equal hashes are then told
// apart by comparing the texts, as with any hash.
struct EndsHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    if (s.size() <= 64) return std::hash<std::string_view>{}(s);
    const std::size_t head = std::hash<std::string_view>{}(s.substr(0, 32));
    const std::size_t tail = std::hash<std::string_view>{}(s.substr(s.size() - 32));
    return head ^ (tail * 0x9e3779b97f4a7c15ULL) ^ (s.size() * 0xc2b2ae3d27d4eb4fULL);
  }
};

}  // namespace eshop
