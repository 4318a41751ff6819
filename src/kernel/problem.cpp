#include <eshop/problem.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace eshop::http {

int status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return 400;
    case ErrorCode::validation: return 422;
    case ErrorCode::unauthorized: return 401;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::method_not_allowed: return 405;
    case ErrorCode::conflict: return 409;
    case ErrorCode::payload_too_large: return 413;
    case ErrorCode::unsupported_media_type: return 415;
    case ErrorCode::headers_too_large: return 431;
    case ErrorCode::too_many_requests: return 429;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::not_implemented: return 501;
    case ErrorCode::bad_gateway: return 502;
    case ErrorCode::gateway_timeout: return 504;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

Response problem(const Error& error) {
  const int status = status_of(error.code);
  nlohmann::ordered_json body = {{"type", "about:blank"},
                         {"title", reason_phrase(status)},
                         {"status", status},
                         {"detail", error.code == ErrorCode::internal ? "An unexpected error occurred." : error.detail}};
  if (status == 422 || !error.fields.empty()) body["errors"] = error.fields;
  if (error.extensions && error.extensions->is_object() && error.code != ErrorCode::internal)
    for (const auto& [name, value] : error.extensions->items())
      if (!body.contains(name)) body[name] = value;
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/problem+json");
  if (status == 401) r.headers.add("WWW-Authenticate", "Bearer");
  // A client told to wait is told how long: a dependency that is down is retried after a second.
  if (error.code == ErrorCode::unavailable) r.headers.add("Retry-After", std::to_string(std::max(1, error.retry_after)));
  if (error.code == ErrorCode::too_many_requests && error.retry_after > 0)
    r.headers.add("Retry-After", std::to_string(error.retry_after));
  r.body = body.dump();
  return r;
}

Response problem(int status, std::string detail) {
  ErrorCode code = ErrorCode::internal;
  for (auto c : {ErrorCode::bad_request, ErrorCode::validation, ErrorCode::unauthorized, ErrorCode::forbidden,
                 ErrorCode::not_found, ErrorCode::method_not_allowed, ErrorCode::conflict,
                 ErrorCode::payload_too_large, ErrorCode::unsupported_media_type, ErrorCode::headers_too_large,
                 ErrorCode::too_many_requests, ErrorCode::unavailable, ErrorCode::not_implemented,
                 ErrorCode::bad_gateway, ErrorCode::gateway_timeout})
    if (status_of(c) == status) code = c;
  return problem(Error::make(code, std::move(detail)));
}

}  // namespace eshop::http
