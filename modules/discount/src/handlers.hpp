#pragma once
#include <nlohmann/json.hpp>

#include <eshop/router.hpp>

#include "service.hpp"

namespace eshop::discount {

nlohmann::ordered_json coupon_json(const CouponTerms& coupon);
// Thin HTTP handlers: parse, call the service, map the result.
void register_handlers(http::Router& router, DiscountService& service);

}  // namespace eshop::discount
