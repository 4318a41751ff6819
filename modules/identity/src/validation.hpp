#pragma once
// The rules for what a user may register with.
#include <string>
#include <string_view>

#include <eshop/error.hpp>

namespace eshop::identity {

inline constexpr std::size_t kMinPasswordLength = 8;
inline constexpr std::size_t kMaxPasswordBytes = 1024;  // bounds the hashing work a request can ask for
inline constexpr std::size_t kMaxNameLength = 100;

// Trimmed and lower-cased: emails compare case-insensitively.
std::string normalize_email(std::string_view email);
bool is_valid_email(std::string_view normalized);
// Counts UTF-8 code points, not bytes.
std::size_t utf8_length(std::string_view s);
std::string trim(std::string_view s);

// Field errors for a registration; empty when it is acceptable.
FieldErrors validate_registration(std::string_view normalized_email, std::string_view password, std::string_view name);

}  // namespace eshop::identity
