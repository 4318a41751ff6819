#pragma once
// ordering's tables. Every function runs inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/database.hpp>

#include "order.hpp"

namespace eshop::ordering {

namespace store {

// False when an order with this id exists already.
bool insert(Tx& tx, const Order& order);
// The saga's steps need the order without its timeline (only its readers show it).
enum class Timeline { with, without };
std::optional<Order> find(Tx& tx, const OrderId& id, Timeline timeline = Timeline::with);
std::vector<OrderSummary> list(Tx& tx, const UserId& user, std::int64_t limit, std::int64_t offset);
std::int64_t count(Tx& tx, const UserId& user);

// Moves the order from `from` to `to` only if it is still in `from`: the saga's compare-and-set.
bool transition(Tx& tx, const OrderId& id, OrderStatus from, OrderStatus to, const std::optional<std::string>& reason,
                const std::string& now);
void set_charge(Tx& tx, const OrderId& id, const std::string& charge_id);
void set_tracking_number(Tx& tx, const OrderId& id, const std::string& tracking_number);
void set_invoice_number(Tx& tx, const OrderId& id, const std::string& invoice_number);
void set_refunded(Tx& tx, const OrderId& id);
// A line of the order's timeline: a status's name, or what happened ("payment_declined").
void append(Tx& tx, const OrderId& id, std::string_view event, const std::string& at);
inline void append(Tx& tx, const OrderId& id, OrderStatus reached, const std::string& at) {
  append(tx, id, name_of(reached), at);
}
std::string next_invoice_number(Tx& tx, int year);

}  // namespace store
}  // namespace eshop::ordering
