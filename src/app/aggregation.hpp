#pragma once
// The gateway patterns of the course, for real: aggregation (one call composing what a product
// page needs from catalog and discount) and a backend for frontends (the catalog list shaped for a
// phone). Both call the modules' public HTTP contracts through the gateway itself (a sub-request):
// a local module answers in-process, a module elsewhere is proxied, exactly like a client's request.
#include <functional>
#include <string>

#include <eshop/http.hpp>
#include <eshop/router.hpp>

namespace eshop::app {

// A GET of `target` on behalf of `parent` (its request id and client), routed like a request.
using SubRequest = std::function<http::Response(const http::Request& parent, std::string target)>;

void register_aggregation(http::Router& router, SubRequest fetch);

}  // namespace eshop::app
