#include "saga.hpp"

#include <basket/events.hpp>
#include <catalog/events.hpp>
#include <eshop/event_handlers.hpp>
#include <fmt/format.h>
#include <ordering/events.hpp>

#include "messages.hpp"
#include "store.hpp"

namespace eshop::ordering {
namespace {

std::string money(Money m) { return fmt::format("{}.{:02d}", m.in_cents() / 100, m.in_cents() % 100); }

std::string confirmation_text(const Order& o) {
  std::string text = fmt::format("Hello {},\n\nthank you for your order {}. It is on its way.\n\n", o.buyer_name, o.id.value);
  for (const auto& i : o.items)
    text += fmt::format("  {} x {} at {} = {} {}\n", i.quantity, i.name, money(i.unit_price), money(i.line_total), o.currency);
  text += fmt::format("\nSubtotal: {} {}\n", money(o.subtotal), o.currency);
  if (o.discount > Money()) text += fmt::format("Discount ({}): -{} {}\n", o.coupon_code.value_or(""), money(o.discount), o.currency);
  text += fmt::format("Total: {} {}\n\n", money(o.total), o.currency);
  text += fmt::format("Paid with {} ending in {}.\n", o.card_brand, o.last4);
  if (o.tracking_number) text += fmt::format("Tracking number: {}\n", *o.tracking_number);
  if (o.invoice_number) text += fmt::format("Invoice: {}\n", *o.invoice_number);
  text += fmt::format("\nShipping to:\n{}\n{}\n{} {}\n{}\n", o.address.full_name, o.address.street,
                      o.address.postal_code, o.address.city, o.address.country);
  return text;
}

Order order_from(const basket::events::BasketCheckedOut& c, const std::string& now) {
  Order o;
  o.id = c.order_id;
  o.user_id = c.user_id;
  o.buyer_email = c.buyer_email;
  o.buyer_name = c.buyer_name;
  o.status = OrderStatus::submitted;
  o.created_at = c.checked_out_at;
  o.updated_at = now;
  for (const auto& l : c.lines) {
    o.items.push_back({l.product_id, l.name, l.unit_price, l.quantity, l.line_total, l.image_url});
    o.item_count += l.quantity;
  }
  o.subtotal = c.subtotal;
  o.discount = c.discount;
  if (c.coupon) {
    o.coupon_code = c.coupon->code;
    o.coupon_description = c.coupon->description;
  }
  o.total = c.total;
  o.currency = c.currency;
  o.address = c.shipping_address;
  o.delivery_note = c.delivery_note;
  o.payment_token = c.payment_token;
  o.card_brand = c.card_brand;
  o.last4 = c.last4;
  return o;
}

OrderId order_of(const events::OrderEvent& e) { return OrderId{e.order_id}; }

// What a step with an external call reads first: its order, without the timeline.
template <class E>
std::optional<Order> read_order(Tx& tx, const E& e, const Event&) {
  return store::find(tx, order_of(e), store::Timeline::without);
}

}  // namespace

std::vector<std::string> Saga::subscriptions() {
  namespace be = basket::events;
  namespace ce = catalog::events;
  return {std::string(be::BasketCheckedOut::kType),     std::string(events::OrderPlaced::kType),
          std::string(ce::StockReserved::kType),        std::string(ce::StockReservationRejected::kType),
          std::string(ce::StockReleased::kType),        std::string(events::OrderStockConfirmed::kType),
          std::string(events::OrderShipped::kType),     std::string(events::OrderCompleted::kType),
          std::string(events::RefundRequested::kType)};
}

std::string Saga::now() const { return to_rfc3339_ms(clock_.now()); }

void Saga::bill(Tx& tx, const OrderId& id, const std::string& correlation_id) {
  using S = OrderStatus;
  const auto t = clock_.now();
  const auto at = to_rfc3339_ms(t);
  const int year = static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t)).year());
  if (!store::transition(tx, id, S::shipped, S::completed, std::nullopt, at)) return;
  store::set_invoice_number(tx, id, store::next_invoice_number(tx, year));
  store::append(tx, id, "invoiced", at);
  store::append(tx, id, S::completed, at);
  emit<events::OrderCompleted>(tx, id, correlation_id, clock_);
}

// The external calls, outside any transaction, each idempotent per order.
Saga::Charged Saga::charge(std::optional<Order> order) {
  Charged c{std::move(order), std::nullopt};
  if (c.order && c.order->status == OrderStatus::submitted)
    c.charge = payments_.charge(c.order->payment_token, c.order->total, c.order->currency, c.order->id.value + ":charge");
  return c;
}

Saga::Booked Saga::book_shipment(std::optional<Order> order) {
  Booked b{std::move(order), std::nullopt};
  if (b.order && b.order->status == OrderStatus::stock_confirmed)
    b.tracking_number = shipping_.create_shipment(b.order->id.value, b.order->address);
  return b;
}

Saga::Done Saga::send_confirmation(std::optional<Order> order) {
  Done d{std::move(order), false};
  if (!d.order) return d;
  const auto& o = *d.order;
  mail_.send({o.id.value, o.buyer_email, o.buyer_name, "Your eshop order " + o.id.value + " is confirmed",
              confirmation_text(o)});
  d.called = true;
  return d;
}

Saga::Done Saga::refund_payment(std::optional<Order> order) {
  Done d{std::move(order), false};
  if (d.order && d.order->charge_id && !d.order->refunded) {
    payments_.refund(*d.order->charge_id, d.order->id.value + ":refund");
    d.called = true;
  }
  return d;
}

void Saga::subscribe(EventBus& bus) {
  namespace be = basket::events;
  namespace ce = catalog::events;
  using S = OrderStatus;
  // Slow motion (a demonstration setting, off by default): each step waits before it runs, so a
  // class sees each status, and a customer can cancel in time.
  EventHandlers on(bus, db_, "ordering", {.delay = step_delay_});

  on.handle<be::BasketCheckedOut>("ordering.create", [this](Tx& tx, const be::BasketCheckedOut& c, const Event& e) {
    const auto o = order_from(c, now());
    if (!store::insert(tx, o)) return;
    store::append(tx, o.id, S::submitted, o.created_at);
    emit<events::OrderPlaced>(tx, o.id, e.correlation_id, clock_);
  });

  on.handle_after<events::OrderPlaced>(
      "ordering.pay", read_order<events::OrderPlaced>,
      [this](std::optional<Order> o, const events::OrderPlaced&, const Event&) { return charge(std::move(o)); },
      [this](Tx& tx, const Charged& c, const events::OrderPlaced&, const Event& e) {
        if (!c.charge) return;
        const auto& o = *c.order;
        const auto at = now();
        if (!c.charge->approved) {
          if (store::transition(tx, o.id, S::submitted, S::cancelled, "payment_declined", at)) {
            store::append(tx, o.id, "payment_declined", at);
            restore_basket(tx, o, "payment_declined", e.correlation_id, clock_);
          }
          return;
        }
        store::set_charge(tx, o.id, c.charge->charge_id);
        if (!store::transition(tx, o.id, S::submitted, S::paid, std::nullopt, at)) {
          emit<events::RefundRequested>(tx, o.id, e.correlation_id, clock_);  // cancelled while we charged
          return;
        }
        store::append(tx, o.id, S::paid, at);
        ce::StockReservationRequested reserve{o.id.value, {}};
        for (const auto& i : o.items) reserve.lines.push_back({i.product_id, i.quantity});
        emit_to_catalog(tx, reserve, e.correlation_id, clock_);
      });

  on.handle<ce::StockReserved>("ordering.stock_reserved", [this](Tx& tx, const ce::StockReserved& r, const Event& e) {
    const OrderId id{r.reservation_id};
    const auto at = now();
    if (!store::transition(tx, id, S::paid, S::stock_confirmed, std::nullopt, at)) return;  // cancelled meanwhile
    store::append(tx, id, S::stock_confirmed, at);
    emit<events::OrderStockConfirmed>(tx, id, e.correlation_id, clock_);
  });

  on.handle<ce::StockReservationRejected>(
      "ordering.stock_rejected", [this](Tx& tx, const ce::StockReservationRejected& r, const Event& e) {
        const OrderId id{r.reservation_id};
        const auto at = now();
        if (!store::transition(tx, id, S::paid, S::cancelled, "out_of_stock", at)) return;
        store::append(tx, id, "out_of_stock", at);
        emit<events::RefundRequested>(tx, id, e.correlation_id, clock_);
        if (const auto order = store::find(tx, id)) restore_basket(tx, *order, "out_of_stock", e.correlation_id, clock_);
      });

  on.handle<ce::StockReleased>("ordering.stock_released", [this](Tx& tx, const ce::StockReleased& r, const Event&) {
    store::append(tx, OrderId{r.reservation_id}, "stock_released", now());
  });

  on.handle_after<events::OrderStockConfirmed>(
      "ordering.ship", read_order<events::OrderStockConfirmed>,
      [this](std::optional<Order> o, const events::OrderStockConfirmed&, const Event&) {
        return book_shipment(std::move(o));
      },
      [this](Tx& tx, const Booked& b, const events::OrderStockConfirmed&, const Event& e) {
        const auto at = now();
        if (!b.tracking_number || !store::transition(tx, b.order->id, S::stock_confirmed, S::shipped, std::nullopt, at))
          return;
        store::set_tracking_number(tx, b.order->id, *b.tracking_number);
        store::append(tx, b.order->id, S::shipped, at);
        // Billing makes no external call: it commits with the shipment, and order_shipped, which would
        // only carry the saga to it, is not published. In slow motion it stays a step of its own.
        if (step_delay_ == std::chrono::milliseconds::zero()) bill(tx, b.order->id, e.correlation_id);
        else emit<events::OrderShipped>(tx, b.order->id, e.correlation_id, clock_);
      });

  // Orders shipped in slow motion, or by an earlier version of the shop whose events are still in
  // the outbox.
  on.handle<events::OrderShipped>("ordering.bill", [this](Tx& tx, const events::OrderShipped& p, const Event& e) {
    bill(tx, order_of(p), e.correlation_id);
  });

  on.handle_after<events::OrderCompleted>(
      "ordering.confirm", read_order<events::OrderCompleted>,
      [this](std::optional<Order> o, const events::OrderCompleted&, const Event&) {
        return send_confirmation(std::move(o));
      },
      [this](Tx& tx, const Done& d, const events::OrderCompleted&, const Event&) {
        if (d.called) store::append(tx, d.order->id, "confirmation_sent", now());
      });

  on.handle_after<events::RefundRequested>(
      "ordering.refund", read_order<events::RefundRequested>,
      [this](std::optional<Order> o, const events::RefundRequested&, const Event&) {
        return refund_payment(std::move(o));
      },
      [this](Tx& tx, const Done& d, const events::RefundRequested&, const Event&) {
        if (!d.called) return;
        store::set_refunded(tx, d.order->id);
        store::append(tx, d.order->id, "payment_refunded", now());
      });
}

}  // namespace eshop::ordering
