#pragma once
// What ordering publishes, each through its outbox in the caller's transaction: the saga's own
// events, its requests to catalog, and its compensation request to basket.
#include <string>

#include <basket/events.hpp>
#include <eshop/clock.hpp>
#include <eshop/outbox.hpp>
#include <ordering/events.hpp>

#include "order.hpp"

namespace eshop::ordering {

// One of ordering's events (ordering/events.hpp), keyed by the order: its events stay in order.
template <class E>
void emit(Tx& tx, const OrderId& order, const std::string& correlation_id, const Clock& clock) {
  E e;
  e.order_id = order.value;
  outbox::enqueue(tx, new_event(std::string(E::kType), "ordering", static_cast<const events::OrderEvent&>(e),
                                 correlation_id, clock, order.value));
}

// A request of catalog's stock contract, keyed by its reservation (the order's id).
template <class E>
void emit_to_catalog(Tx& tx, const E& e, const std::string& correlation_id, const Clock& clock) {
  outbox::enqueue(tx, new_event(std::string(E::kType), "ordering", e, correlation_id, clock, e.reservation_id));
}

// Gives the customer the basket back: the order failed through no choice of theirs.
inline void restore_basket(Tx& tx, const Order& o, const std::string& reason, const std::string& correlation_id,
                           const Clock& clock) {
  basket::events::BasketRestoreRequested restore{o.id, o.user_id, reason, {}, o.coupon_code};
  for (const auto& i : o.items) restore.lines.push_back({i.product_id, i.quantity});
  outbox::enqueue(tx, new_event(std::string(restore.kType), "ordering", restore, correlation_id, clock,
                                 o.user_id.value));
}

}  // namespace eshop::ordering
