#include "store.hpp"

#include <fmt/format.h>

namespace eshop::ordering::store {

bool insert(Tx& tx, const Order& o) {
  auto& exists = tx.statement("SELECT 1 FROM orders WHERE id = ?1");
  exists.bind(1, o.id.value);
  if (exists.next()) return false;
  tx.statement("INSERT INTO orders(id, user_id, buyer_email, buyer_name, status, created_at, updated_at, item_count, "
               "subtotal, discount, coupon_code, coupon_description, total, currency, ship_full_name, ship_street, "
               "ship_city, ship_postal_code, ship_country, delivery_note, payment_token, card_brand, last4) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
               "?22, ?23)")
      .bind(1, o.id.value)
      .bind(2, o.user_id.value)
      .bind(3, o.buyer_email)
      .bind(4, o.buyer_name)
      .bind(5, name_of(o.status))
      .bind(6, o.created_at)
      .bind(7, o.updated_at)
      .bind(8, o.item_count)
      .bind(9, o.subtotal.in_cents())
      .bind(10, o.discount.in_cents())
      .bind(11, o.coupon_code)
      .bind(12, o.coupon_description)
      .bind(13, o.total.in_cents())
      .bind(14, o.currency)
      .bind(15, o.address.full_name)
      .bind(16, o.address.street)
      .bind(17, o.address.city)
      .bind(18, o.address.postal_code)
      .bind(19, o.address.country)
      .bind(20, o.delivery_note)
      .bind(21, o.payment_token)
      .bind(22, o.card_brand)
      .bind(23, o.last4)
      .run();
  for (const auto& i : o.items)
    tx.statement("INSERT INTO order_items(order_id, product_id, name, unit_price, quantity, line_total, image_url) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, o.id.value)
        .bind(2, i.product_id.value)
        .bind(3, i.name)
        .bind(4, i.unit_price.in_cents())
        .bind(5, i.quantity)
        .bind(6, i.line_total.in_cents())
        .bind(7, i.image_url)
        .run();
  return true;
}

namespace {

OrderStatus status_in(std::string_view stored, std::string_view order_id) {
  if (const auto s = status_named(stored)) return *s;
  throw std::runtime_error("order " + std::string(order_id) + " has an unknown status '" + std::string(stored) + "'");
}

}  // namespace

std::optional<Order> find(Tx& tx, const OrderId& id, Timeline with) {
  // The saga reads an order at almost every step: cached statements.
  auto& q = tx.statement(
      "SELECT id, user_id, buyer_email, buyer_name, status, status_reason, created_at, updated_at, item_count, "
      "subtotal, discount, coupon_code, coupon_description, total, currency, ship_full_name, ship_street, ship_city, "
      "ship_postal_code, ship_country, delivery_note, payment_token, card_brand, last4, charge_id, refunded, "
      "tracking_number, invoice_number FROM orders WHERE id = ?1");
  q.bind(1, id.value);
  if (!q.next()) return std::nullopt;
  Order o;
  o.id = OrderId{q.text(0)};
  o.user_id = UserId{q.text(1)};
  o.buyer_email = q.text(2);
  o.buyer_name = q.text(3);
  o.status = status_in(q.text(4), o.id.value);
  o.status_reason = q.text_or_null(5);
  o.created_at = q.text(6);
  o.updated_at = q.text(7);
  o.item_count = q.int64(8);
  o.subtotal = Money::cents(q.int64(9));
  o.discount = Money::cents(q.int64(10));
  o.coupon_code = q.text_or_null(11);
  o.coupon_description = q.text(12);
  o.total = Money::cents(q.int64(13));
  o.currency = q.text(14);
  o.address.full_name = q.text(15);
  o.address.street = q.text(16);
  o.address.city = q.text(17);
  o.address.postal_code = q.text(18);
  o.address.country = q.text(19);
  o.delivery_note = q.text(20);
  o.payment_token = q.text(21);
  o.card_brand = q.text(22);
  o.last4 = q.text(23);
  o.charge_id = q.text_or_null(24);
  o.refunded = q.int64(25) != 0;
  o.tracking_number = q.text_or_null(26);
  o.invoice_number = q.text_or_null(27);
  auto& items = tx.statement(
      "SELECT product_id, name, unit_price, quantity, line_total, image_url FROM order_items WHERE order_id = ?1 "
      "ORDER BY rowid");
  items.bind(1, id.value);
  while (items.next())
    o.items.push_back({ProductId{items.int64(0)}, items.text(1), Money::cents(items.int64(2)), items.int64(3),
                       Money::cents(items.int64(4)), items.text(5)});
  if (with == Timeline::without) return o;
  auto& timeline = tx.statement("SELECT at, event FROM order_timeline WHERE order_id = ?1 ORDER BY seq");
  timeline.bind(1, id.value);
  while (timeline.next()) o.timeline.push_back({timeline.text(0), timeline.text(1)});
  return o;
}

std::vector<OrderSummary> list(Tx& tx, const UserId& user, std::int64_t limit, std::int64_t offset) {
  std::vector<OrderSummary> out;
  auto& q = tx.statement("SELECT id, created_at, status, total, currency, item_count FROM orders "
                         "WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
  q.bind(1, user.value).bind(2, limit).bind(3, offset);
  while (q.next()) {
    OrderId id{q.text(0)};
    const auto status = status_in(q.text(2), id.value);
    out.push_back({std::move(id), q.text(1), status, q.text(4), Money::cents(q.int64(3)), q.int64(5)});
  }
  return out;
}

std::int64_t count(Tx& tx, const UserId& user) {
  auto& q = tx.statement("SELECT COUNT(*) FROM orders WHERE user_id = ?1");
  q.bind(1, user.value);
  return q.next() ? q.int64(0) : 0;
}

bool transition(Tx& tx, const OrderId& id, OrderStatus from, OrderStatus to, const std::optional<std::string>& reason,
                const std::string& now) {
  return tx.statement("UPDATE orders SET status = ?1, status_reason = ?2, updated_at = ?3 WHERE id = ?4 AND status = ?5")
             .bind(1, name_of(to))
             .bind(2, reason)
             .bind(3, now)
             .bind(4, id.value)
             .bind(5, name_of(from))
             .run() == 1;
}

void set_charge(Tx& tx, const OrderId& id, const std::string& charge_id) {
  tx.statement("UPDATE orders SET charge_id = ?1 WHERE id = ?2").bind(1, charge_id).bind(2, id.value).run();
}

void set_tracking_number(Tx& tx, const OrderId& id, const std::string& tracking_number) {
  tx.statement("UPDATE orders SET tracking_number = ?1 WHERE id = ?2").bind(1, tracking_number).bind(2, id.value).run();
}

void set_invoice_number(Tx& tx, const OrderId& id, const std::string& invoice_number) {
  tx.statement("UPDATE orders SET invoice_number = ?1 WHERE id = ?2").bind(1, invoice_number).bind(2, id.value).run();
}

void set_refunded(Tx& tx, const OrderId& id) {
  tx.statement("UPDATE orders SET refunded = 1 WHERE id = ?1").bind(1, id.value).run();
}

void append(Tx& tx, const OrderId& id, std::string_view event, const std::string& at) {
  tx.statement("INSERT INTO order_timeline(order_id, at, event) VALUES(?1, ?2, ?3)")
      .bind(1, id.value)
      .bind(2, at)
      .bind(3, event)
      .run();
}

std::string next_invoice_number(Tx& tx, int year) {
  auto& next = tx.statement("INSERT INTO invoice_counters(year, last) VALUES(?1, 1) "
                            "ON CONFLICT(year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last");
  next.bind(1, year);
  if (!next.next()) throw std::runtime_error("invoice counter not returned");
  const auto last = next.int64(0);
  next.run();  // to the end: a write statement still stepping would fail the savepoint's release
  return fmt::format("INV-{}-{:06d}", year, last);
}

}  // namespace eshop::ordering::store
