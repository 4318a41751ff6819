#pragma once
#include <nlohmann/json.hpp>

#include <eshop/router.hpp>

#include "service.hpp"

namespace eshop::ordering {

nlohmann::ordered_json order_json(const Order& order);
// Order history for its owner (or an admin), and the customer's cancel.
void register_handlers(http::Router& router, OrderService& orders);

}  // namespace eshop::ordering
