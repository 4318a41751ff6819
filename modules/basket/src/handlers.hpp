#pragma once
#include <string>

#include <eshop/router.hpp>

#include "service.hpp"

namespace eshop::basket {

// {"items":[...],"itemCount","subtotal","coupon","discount","total","currency"}
std::string basket_json(const PricedBasket& basket, const std::string& currency);
// Thin HTTP handlers: parse, call the service, map the result.
void register_handlers(http::Router& router, BasketService& service, std::string currency);

}  // namespace eshop::basket
