#include "saga.hpp"

#include <basket/events.hpp>
#include <catalog/events.hpp>
#include <eshop/outbox.hpp>
#include <fmt/format.h>
#include <thread>
#include <ordering/events.hpp>

namespace eshop::ordering {
namespace {

template <class E>
void emit(Tx& tx, const std::string& order_id, const std::string& correlation_id, const Clock& clock) {
  E e;
  e.order_id = order_id;
  outbox::enqueue(tx, new_event(std::string(E::kType), "ordering", static_cast<const events::OrderEvent&>(e),
                                 correlation_id, clock, order_id));
}

template <class E>
void emit_to_catalog(Tx& tx, const E& e, const std::string& correlation_id, const Clock& clock) {
  outbox::enqueue(tx, new_event(std::string(E::kType), "ordering", e, correlation_id, clock, e.reservation_id));
}

// Gives the customer the basket back: the order failed through no choice of theirs.
void restore_basket(Tx& tx, const Order& o, const std::string& reason, const std::string& correlation_id,
                    const Clock& clock) {
  basket::events::BasketRestoreRequested restore{OrderId{o.id}, UserId{o.user_id}, reason, {}, o.coupon_code};
  for (const auto& i : o.items) restore.lines.push_back({ProductId{i.product_id}, i.quantity});
  outbox::enqueue(tx, new_event(std::string(restore.kType), "ordering", restore, correlation_id, clock, o.user_id));
}

std::string order_id_of(const Event& e) { return e.payload.at("orderId").get<std::string>(); }

std::string money(std::int64_t cents) { return fmt::format("{}.{:02d}", cents / 100, cents % 100); }

std::string confirmation_text(const Order& o) {
  std::string text = fmt::format("Hello {},\n\nthank you for your order {}. It is on its way.\n\n", o.buyer_name, o.id);
  for (const auto& i : o.items)
    text += fmt::format("  {} x {} at {} = {} {}\n", i.quantity, i.name, money(i.unit_price), money(i.line_total), o.currency);
  text += fmt::format("\nSubtotal: {} {}\n", money(o.subtotal), o.currency);
  if (o.discount > 0) text += fmt::format("Discount ({}): -{} {}\n", o.coupon_code.value_or(""), money(o.discount), o.currency);
  text += fmt::format("Total: {} {}\n\n", money(o.total), o.currency);
  text += fmt::format("Paid with {} ending in {}.\n", o.card_brand, o.last4);
  if (o.tracking_number) text += fmt::format("Tracking number: {}\n", *o.tracking_number);
  if (o.invoice_number) text += fmt::format("Invoice: {}\n", *o.invoice_number);
  text += fmt::format("\nShipping to:\n{}\n{}\n{} {}\n{}\n", o.address.full_name, o.address.street,
                      o.address.postal_code, o.address.city, o.address.country);
  return text;
}

}  // namespace

namespace {

// Every step of the saga: the event that drives it and the step. The one list of ordering's subscriptions.
using Step = void (Saga::*)(const Event&);
const std::vector<std::pair<std::string_view, Step>>& steps() {
  static const std::vector<std::pair<std::string_view, Step>> list = {
      {basket::events::BasketCheckedOut::kType, &Saga::create},
      {events::OrderPlaced::kType, &Saga::pay},
      {catalog::events::StockReserved::kType, &Saga::stock_reserved},
      {catalog::events::StockReservationRejected::kType, &Saga::stock_rejected},
      {catalog::events::StockReleased::kType, &Saga::stock_released},
      {events::OrderStockConfirmed::kType, &Saga::ship},
      {events::OrderShipped::kType, &Saga::bill},
      {events::OrderCompleted::kType, &Saga::confirm},
      {events::RefundRequested::kType, &Saga::refund},
  };
  return list;
}

}  // namespace

void Saga::subscribe(EventBus& bus) {
  for (const auto& [type, step] : steps())
    bus.subscribe("ordering", std::string(type), [this, step = step](const Event& e) {
      // Slow motion (a demonstration setting, off by default): the step waits before it runs, so
      // a class sees each status, and a customer can cancel in time. Redeliveries wait too.
      if (step_delay_.count() > 0) std::this_thread::sleep_for(step_delay_);
      (this->*step)(e);
    });
}

std::vector<std::string> Saga::subscriptions() {
  std::vector<std::string> out;
  for (const auto& [type, step] : steps()) out.emplace_back(type);
  return out;
}

std::optional<Order> Saga::load(const std::string& order_id) {
  return db_.read([&](Tx& tx) { return store::find(tx, order_id); });
}

bool Saga::seen(const Event& e, const char* handler) { return inbox::seen(db_, e, handler); }

void Saga::create(const Event& e) {
  const auto c = e.payload.get<basket::events::BasketCheckedOut>();
  Order o;
  o.id = c.order_id.value;
  o.user_id = c.user_id.value;
  o.buyer_email = c.buyer_email;
  o.buyer_name = c.buyer_name;
  o.status = kSubmitted;
  o.created_at = c.checked_out_at;
  o.updated_at = to_rfc3339_ms(clock_.now());
  for (const auto& l : c.lines) {
    o.items.push_back({l.product_id.value, l.name, l.unit_price.in_cents(), l.quantity, l.line_total.in_cents(), l.image_url});
    o.item_count += l.quantity;
  }
  o.subtotal = c.subtotal.in_cents();
  o.discount = c.discount.in_cents();
  if (c.coupon) {
    o.coupon_code = c.coupon->code;
    o.coupon_description = c.coupon->description;
  }
  o.total = c.total.in_cents();
  o.currency = c.currency;
  o.address = c.shipping_address;
  o.delivery_note = c.delivery_note;
  o.payment_token = c.payment_token;
  o.card_brand = c.card_brand;
  o.last4 = c.last4;
  inbox::handle_once(db_, e, "ordering.create", [&](Tx& tx) {
    if (!store::insert(tx, o)) return;
    store::append(tx, o.id, kSubmitted, o.created_at);
    emit<events::OrderPlaced>(tx, o.id, e.correlation_id, clock_);
  });
}

void Saga::pay(const Event& e) {
  const char* handler = "ordering.pay";
  if (seen(e, handler)) return;
  const auto order = load(order_id_of(e));
  std::optional<ChargeResult> charge;
  if (order && order->status == kSubmitted)  // the external call, outside any transaction; idempotent per order
    charge = payments_.charge(order->payment_token, Money::cents(order->total), order->currency, order->id + ":charge");
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, handler, [&](Tx& tx) {
    if (!charge) return;
    const auto& id = order->id;
    if (!charge->approved) {
      if (store::transition(tx, id, kSubmitted, kCancelled, "payment_declined", now)) {
        store::append(tx, id, "payment_declined", now);
        restore_basket(tx, *order, "payment_declined", e.correlation_id, clock_);
      }
      return;
    }
    store::set_column(tx, id, "charge_id", charge->charge_id);
    if (!store::transition(tx, id, kSubmitted, kPaid, std::nullopt, now)) {
      emit<events::RefundRequested>(tx, id, e.correlation_id, clock_);  // cancelled while we charged
      return;
    }
    store::append(tx, id, kPaid, now);
    catalog::events::StockReservationRequested reserve{id, {}};
    for (const auto& i : order->items) reserve.lines.push_back({ProductId{i.product_id}, i.quantity});
    emit_to_catalog(tx, reserve, e.correlation_id, clock_);
  });
}

void Saga::stock_reserved(const Event& e) {
  const auto id = e.payload.at("reservationId").get<std::string>();
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, "ordering.stock_reserved", [&](Tx& tx) {
    if (!store::transition(tx, id, kPaid, kStockConfirmed, std::nullopt, now)) return;  // cancelled meanwhile
    store::append(tx, id, kStockConfirmed, now);
    emit<events::OrderStockConfirmed>(tx, id, e.correlation_id, clock_);
  });
}

void Saga::stock_rejected(const Event& e) {
  const auto id = e.payload.at("reservationId").get<std::string>();
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, "ordering.stock_rejected", [&](Tx& tx) {
    if (!store::transition(tx, id, kPaid, kCancelled, "out_of_stock", now)) return;
    store::append(tx, id, "out_of_stock", now);
    emit<events::RefundRequested>(tx, id, e.correlation_id, clock_);
    if (const auto order = store::find(tx, id)) restore_basket(tx, *order, "out_of_stock", e.correlation_id, clock_);
  });
}

void Saga::stock_released(const Event& e) {
  const auto id = e.payload.at("reservationId").get<std::string>();
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, "ordering.stock_released", [&](Tx& tx) {
    store::append(tx, id, "stock_released", now);
  });
}

void Saga::ship(const Event& e) {
  const char* handler = "ordering.ship";
  if (seen(e, handler)) return;
  const auto order = load(order_id_of(e));
  std::optional<std::string> tracking;
  if (order && order->status == kStockConfirmed) tracking = shipping_.create_shipment(order->id, order->address);
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, handler, [&](Tx& tx) {
    if (!tracking || !store::transition(tx, order->id, kStockConfirmed, kShipped, std::nullopt, now)) return;
    store::set_column(tx, order->id, "tracking_number", *tracking);
    store::append(tx, order->id, kShipped, now);
    emit<events::OrderShipped>(tx, order->id, e.correlation_id, clock_);
  });
}

void Saga::bill(const Event& e) {
  const auto id = order_id_of(e);
  const auto t = clock_.now();
  const auto now = to_rfc3339_ms(t);
  const int year = static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t)).year());
  inbox::handle_once(db_, e, "ordering.bill", [&](Tx& tx) {
    if (!store::transition(tx, id, kShipped, kCompleted, std::nullopt, now)) return;
    store::set_column(tx, id, "invoice_number", store::next_invoice_number(tx, year));
    store::append(tx, id, "invoiced", now);
    store::append(tx, id, kCompleted, now);
    emit<events::OrderCompleted>(tx, id, e.correlation_id, clock_);
  });
}

void Saga::confirm(const Event& e) {
  const char* handler = "ordering.confirm";
  if (seen(e, handler)) return;
  const auto order = load(order_id_of(e));
  if (order) mail_.send({order->id, order->buyer_email, order->buyer_name,
                         "Your eshop order " + order->id + " is confirmed", confirmation_text(*order)});
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, handler, [&](Tx& tx) {
    if (order) store::append(tx, order->id, "confirmation_sent", now);
  });
}

void Saga::refund(const Event& e) {
  const char* handler = "ordering.refund";
  if (seen(e, handler)) return;
  const auto order = load(order_id_of(e));
  const bool due = order && order->charge_id && !order->refunded;
  if (due) payments_.refund(*order->charge_id, order->id + ":refund");
  const auto now = to_rfc3339_ms(clock_.now());
  inbox::handle_once(db_, e, handler, [&](Tx& tx) {
    if (!due) return;
    tx.statement("UPDATE orders SET refunded = 1 WHERE id = ?1").bind(1, order->id).run();
    store::append(tx, order->id, "payment_refunded", now);
  });
}

Result<Order> Saga::cancel(const std::string& user_id, const std::string& order_id, const std::string& correlation_id) {
  const auto now = to_rfc3339_ms(clock_.now());
  return db_.write([&](Tx& tx) -> Result<Order> {
    auto order = store::find(tx, order_id);
    if (!order || order->user_id != user_id) return fail(Error::not_found("No order has this id."));
    const std::string was = order->status;
    if (was == kShipped || was == kCompleted)
      return fail(Error::conflict("The order has shipped and can no longer be cancelled."));
    if (was == kCancelled) return fail(Error::conflict("The order is already cancelled."));
    if (!store::transition(tx, order_id, was, kCancelled, "cancelled_by_customer", now))
      return fail(Error::conflict("The order changed; try again."));
    store::append(tx, order_id, "cancelled_by_customer", now);
    emit<events::OrderCancelled>(tx, order_id, correlation_id, clock_);
    if (order->charge_id) emit<events::RefundRequested>(tx, order_id, correlation_id, clock_);
    // Once paid, a reservation was requested: release it (catalog releases only what it took).
    if (was == kPaid || was == kStockConfirmed)
      emit_to_catalog(tx, catalog::events::StockReleaseRequested{order_id}, correlation_id, clock_);
    return *store::find(tx, order_id);
  });
}

}  // namespace eshop::ordering
