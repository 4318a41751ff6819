#pragma once
#include <eshop/router.hpp>

#include "service.hpp"

namespace eshop::catalog {

// Thin HTTP handlers: parse, call the service, map the result.
void register_handlers(http::Router& router, CatalogService& service);

}  // namespace eshop::catalog
