#pragma once
// RFC 9457 problem details: the one place error codes become HTTP statuses.
#include <string>

#include <eshop/error.hpp>
#include <eshop/http.hpp>

namespace eshop::http {

int status_of(ErrorCode code);
// application/problem+json with type, title, status, detail (and errors for 422).
Response problem(const Error& error);
Response problem(int status, std::string detail);

}  // namespace eshop::http
