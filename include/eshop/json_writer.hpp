#pragma once
// Writing a JSON document by appending to a string, for answers on hot paths (a basket after every
// change): building an nlohmann tree first allocates a node per value and a vector per object, and
// cost a basket write about a third of its CPU. The output is byte for byte what
// nlohmann::json::dump() writes for the same document (no spaces, the same escapes), so a client
// cannot tell which wrote it.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace eshop::json {

// `text` as a JSON string, quotes included: '"' and '\' escaped, control characters as nlohmann
// writes them (\b \f \n \r \t, else \u00XX), every other byte (UTF-8 included) as it is.
inline void append_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes that need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, 6);
      }
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out += '"';
}

inline void append_int(std::string& out, std::int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// "name": — a member's name and colon, after a '{' or a ','. Names come from code, not from users.
inline void append_key(std::string& out, std::string_view name) {
  out += '"';
  out += name;
  out += "\":";
}

// The comma between two members or elements: none right after a '{' or a '['.
inline void separate(std::string& out) {
  if (!out.empty() && out.back() != '{' && out.back() != '[') out += ',';
}

// "name":value, with the comma before it unless it opens its object.
inline void append_member(std::string& out, std::string_view name, std::int64_t value) {
  separate(out);
  append_key(out, name);
  append_int(out, value);
}
inline void append_member(std::string& out, std::string_view name, std::string_view value) {
  separate(out);
  append_key(out, name);
  append_string(out, value);
}
// A string member written as null when the string is empty (an image URL that is not set).
inline void append_member_or_null(std::string& out, std::string_view name, std::string_view value) {
  if (!value.empty()) return append_member(out, name, value);
  separate(out);
  append_key(out, name);
  out += "null";
}

}  // namespace eshop::json
