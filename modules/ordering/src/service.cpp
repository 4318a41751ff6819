#include "service.hpp"

#include <catalog/events.hpp>
#include <eshop/database.hpp>
#include <ordering/events.hpp>

#include "messages.hpp"
#include "store.hpp"

namespace eshop::ordering {

OrderPage OrderService::list(const UserId& customer, const http::Paging& paging) const {
  return db_.read([&](Tx& tx) {
    OrderPage page;
    page.total = store::count(tx, customer);
    if (paging.reachable(page.total)) page.items = store::list(tx, customer, paging.page_size, paging.offset());
    return page;
  });
}

std::optional<Order> OrderService::find(const Principal& who, const OrderId& id) const {
  auto order = db_.read([&](Tx& tx) { return store::find(tx, id); });
  if (!order || (order->user_id != who.id && !who.has_role(kAdminRole))) return std::nullopt;
  return order;
}

Result<Order> OrderService::cancel(const UserId& customer, const OrderId& id, const std::string& correlation_id) {
  using S = OrderStatus;
  const auto now = to_rfc3339_ms(clock_.now());
  return db_.write([&](Tx& tx) -> Result<Order> {
    auto order = store::find(tx, id);
    if (!order || order->user_id != customer) return fail(Error::not_found("No order has this id."));
    const auto was = order->status;
    if (was == S::shipped || was == S::completed)
      return fail(Error::conflict("The order has shipped and can no longer be cancelled."));
    if (was == S::cancelled) return fail(Error::conflict("The order is already cancelled."));
    if (!store::transition(tx, id, was, S::cancelled, "cancelled_by_customer", now))
      return fail(Error::conflict("The order changed; try again."));
    store::append(tx, id, "cancelled_by_customer", now);
    emit<events::OrderCancelled>(tx, id, correlation_id, clock_);
    if (order->charge_id) emit<events::RefundRequested>(tx, id, correlation_id, clock_);
    // Once paid, a reservation was requested: release it (catalog releases only what it took).
    if (was == S::paid || was == S::stock_confirmed)
      emit_to_catalog(tx, catalog::events::StockReleaseRequested{id.value}, correlation_id, clock_);
    return *store::find(tx, id);
  });
}

}  // namespace eshop::ordering
