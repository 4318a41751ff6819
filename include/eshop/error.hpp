#pragma once
// Expected refusals are values: every module answers tl::expected<T, Error>.
#include <map>
#include <string>
#include <vector>

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
  too_many_requests,       // (429)
  unavailable,             // a dependency is down (503)
  internal,                // (500), detail never shown to clients
};

using FieldErrors = std::map<std::string, std::vector<std::string>>;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;
  FieldErrors fields;

  static Error make(ErrorCode code, std::string detail) { return {code, std::move(detail), {}}; }
  static Error invalid(FieldErrors fields, std::string detail = "The request has invalid fields.") {
    return {ErrorCode::validation, std::move(detail), std::move(fields)};
  }
  static Error invalid_field(const std::string& field, std::string message) {
    return invalid({{field, {std::move(message)}}});
  }
  static Error not_found(std::string detail) { return make(ErrorCode::not_found, std::move(detail)); }
  static Error conflict(std::string detail) { return make(ErrorCode::conflict, std::move(detail)); }
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

}  // namespace eshop
