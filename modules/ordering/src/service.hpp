#pragma once
// What a customer asks of ordering over HTTP: their orders, one order, a cancel. Apart from the
// saga, which only events drive; a cancel starts the saga's compensation through the outbox.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <eshop/auth.hpp>
#include <eshop/clock.hpp>
#include <eshop/error.hpp>
#include <eshop/paging.hpp>

#include "order.hpp"

namespace eshop {
class Database;
}

namespace eshop::ordering {

struct OrderPage {
  std::int64_t total = 0;
  std::vector<OrderSummary> items;  // empty for a page past the last
};

class OrderService final {
 public:
  OrderService(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The customer's orders, newest first.
  OrderPage list(const UserId& customer, const http::Paging& paging) const;
  // The order, for its owner or an admin; another user's order is indistinguishable from none.
  std::optional<Order> find(const Principal& who, const OrderId& id) const;
  // The owner cancels before shipment; conflict after it. Returns the order as it is now.
  Result<Order> cancel(const UserId& customer, const OrderId& id, const std::string& correlation_id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace eshop::ordering
