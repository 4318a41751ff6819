#pragma once
// Expected refusals are values: every module answers tl::expected<T, Error>.
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

namespace eshop {

enum class ErrorCode {
  bad_request,             // malformed syntax (400)
  validation,              // well-formed but invalid fields (422)
  unauthorized,            // no or bad credentials (401)
  forbidden,               // authenticated, lacks the role (403)
  not_found,               // (404)
  method_not_allowed,      // (405)
  conflict,                // state conflict, e.g. a taken email (409)
  payload_too_large,       // (413)
  unsupported_media_type,  // (415)
  headers_too_large,       // (431)
  too_many_requests,       // (429), with Retry-After
  unavailable,             // a dependency is down (503), with Retry-After
  not_implemented,         // e.g. an unsupported transfer coding (501)
  bad_gateway,             // another process this one acts through failed or refused (502)
  gateway_timeout,         // another process this one acts through did not answer in time (504)
  internal,                // (500), detail never shown to clients
};

using FieldErrors = std::map<std::string, std::vector<std::string>>;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;
  FieldErrors fields;
  int retry_after = 0;  // seconds, for too_many_requests and unavailable (Retry-After; at least 1 for 503)
  // More members of the problem object (RFC 9457 §3.2), e.g. the lines short of stock; an object.
  std::shared_ptr<const nlohmann::ordered_json> extensions;

  static Error make(ErrorCode code, std::string detail) { return {code, std::move(detail), {}, 0, nullptr}; }
  static Error too_many(std::string detail, std::int64_t retry_after) {
    return {ErrorCode::too_many_requests, std::move(detail), {}, static_cast<int>(retry_after), nullptr};
  }
  static Error unavailable(std::string detail, int retry_after = 1) {
    return {ErrorCode::unavailable, std::move(detail), {}, retry_after, nullptr};
  }
  static Error invalid(FieldErrors fields, std::string detail = "The request has invalid fields.") {
    return {ErrorCode::validation, std::move(detail), std::move(fields), 0, nullptr};
  }
  static Error invalid_field(const std::string& field, std::string message) {
    return invalid({{field, {std::move(message)}}});
  }
  static Error not_found(std::string detail) { return make(ErrorCode::not_found, std::move(detail)); }
  static Error conflict(std::string detail) { return make(ErrorCode::conflict, std::move(detail)); }
};

// Thrown where an interface has no way to say "ask again later": a module in another process (or
// another dependency) cannot be reached. The edge answers 503 with Retry-After and the message.
class DependencyUnavailable final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

}  // namespace eshop
