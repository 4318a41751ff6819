#include "store.hpp"

#include <fmt/format.h>

namespace eshop::ordering::store {

bool insert(soci::session&, const Order& o) {
  auto& db = Database::current();
  auto& exists = db.statement("SELECT 1 FROM orders WHERE id = ?1");
  exists.bind(1, o.id);
  if (exists.next()) return false;
  db.statement("INSERT INTO orders(id, user_id, buyer_email, buyer_name, status, created_at, updated_at, item_count, "
               "subtotal, discount, coupon_code, coupon_description, total, currency, ship_full_name, ship_street, "
               "ship_city, ship_postal_code, ship_country, delivery_note, payment_token, card_brand, last4) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
               "?22, ?23)")
      .bind(1, o.id)
      .bind(2, o.user_id)
      .bind(3, o.buyer_email)
      .bind(4, o.buyer_name)
      .bind(5, o.status)
      .bind(6, o.created_at)
      .bind(7, o.updated_at)
      .bind(8, o.item_count)
      .bind(9, o.subtotal)
      .bind(10, o.discount)
      .bind(11, o.coupon_code)
      .bind(12, o.coupon_description)
      .bind(13, o.total)
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
    db.statement("INSERT INTO order_items(order_id, product_id, name, unit_price, quantity, line_total) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, o.id)
        .bind(2, i.product_id)
        .bind(3, i.name)
        .bind(4, i.unit_price)
        .bind(5, i.quantity)
        .bind(6, i.line_total)
        .run();
  return true;
}

namespace {

std::optional<std::string> opt(const std::string& value, soci::indicator ind) {
  return ind == soci::i_ok ? std::optional<std::string>(value) : std::nullopt;
}

// The saga reads an order at almost every step: its statements are prepared once per database.
struct FindOrder {
  std::string id;
  Order o;
  long long count = 0, subtotal = 0, discount = 0, total = 0;
  int refunded = 0;
  std::string reason, code, charge, tracking, invoice;
  soci::indicator reason_ind{}, code_ind{}, charge_ind{}, tracking_ind{}, invoice_ind{};
  soci::statement st;
  explicit FindOrder(soci::session& sql)
      : st((sql.prepare << "SELECT id, user_id, buyer_email, buyer_name, status, status_reason, created_at, updated_at, "
                           "item_count, subtotal, discount, coupon_code, coupon_description, total, currency, "
                           "ship_full_name, ship_street, ship_city, ship_postal_code, ship_country, delivery_note, "
                           "payment_token, card_brand, last4, charge_id, refunded, tracking_number, invoice_number "
                           "FROM orders WHERE id = :id",
            soci::into(o.id), soci::into(o.user_id), soci::into(o.buyer_email), soci::into(o.buyer_name),
            soci::into(o.status), soci::into(reason, reason_ind), soci::into(o.created_at), soci::into(o.updated_at),
            soci::into(count), soci::into(subtotal), soci::into(discount), soci::into(code, code_ind),
            soci::into(o.coupon_description), soci::into(total), soci::into(o.currency),
            soci::into(o.address.full_name), soci::into(o.address.street), soci::into(o.address.city),
            soci::into(o.address.postal_code), soci::into(o.address.country), soci::into(o.delivery_note),
            soci::into(o.payment_token), soci::into(o.card_brand), soci::into(o.last4), soci::into(charge, charge_ind),
            soci::into(refunded), soci::into(tracking, tracking_ind), soci::into(invoice, invoice_ind),
            soci::use(id))) {}
};

struct FindItems {
  std::string id;
  OrderItem item;
  long long product = 0, price = 0, quantity = 0, line_total = 0;
  soci::statement st;
  explicit FindItems(soci::session& sql)
      : st((sql.prepare << "SELECT product_id, name, unit_price, quantity, line_total FROM order_items "
                           "WHERE order_id = :id ORDER BY rowid",
            soci::into(product), soci::into(item.name), soci::into(price), soci::into(quantity),
            soci::into(line_total), soci::use(id))) {}
};

struct FindTimeline {
  std::string id;
  TimelineEntry entry;
  soci::statement st;
  explicit FindTimeline(soci::session& sql)
      : st((sql.prepare << "SELECT at, event FROM order_timeline WHERE order_id = :id ORDER BY seq",
            soci::into(entry.at), soci::into(entry.event), soci::use(id))) {}
};

struct Transition {
  std::string id, from, to, reason, now;
  soci::indicator reason_ind{};
  soci::statement st;
  explicit Transition(soci::session& sql)
      : st((sql.prepare << "UPDATE orders SET status = :to, status_reason = :r, updated_at = :t "
                           "WHERE id = :id AND status = :from",
            soci::use(to), soci::use(reason, reason_ind), soci::use(now), soci::use(id), soci::use(from))) {}
};

struct Append {
  std::string id, at, event;
  soci::statement st;
  explicit Append(soci::session& sql)
      : st((sql.prepare << "INSERT INTO order_timeline(order_id, at, event) VALUES(:o, :a, :e)", soci::use(id),
            soci::use(at), soci::use(event))) {}
};

}  // namespace

std::optional<Order> find(soci::session&, const std::string& id) {
  auto& db = Database::current();
  auto& q = db.prepared<FindOrder>();
  q.id = id;
  q.st.execute(true);
  if (!q.st.got_data()) return std::nullopt;
  Order o = q.o;
  o.item_count = q.count, o.subtotal = q.subtotal, o.discount = q.discount, o.total = q.total;
  o.refunded = q.refunded != 0;
  o.status_reason = opt(q.reason, q.reason_ind);
  o.coupon_code = opt(q.code, q.code_ind);
  o.charge_id = opt(q.charge, q.charge_ind);
  o.tracking_number = opt(q.tracking, q.tracking_ind);
  o.invoice_number = opt(q.invoice, q.invoice_ind);
  auto& items = db.prepared<FindItems>();
  items.id = id;
  if (items.st.execute(true)) do {
      o.items.push_back({items.product, items.item.name, items.price, items.quantity, items.line_total});
    } while (items.st.fetch());
  auto& timeline = db.prepared<FindTimeline>();
  timeline.id = id;
  if (timeline.st.execute(true)) do {
      o.timeline.push_back(timeline.entry);
    } while (timeline.st.fetch());
  return o;
}

std::vector<OrderSummary> list(soci::session& sql, const std::string& user_id, std::int64_t limit, std::int64_t offset) {
  std::vector<OrderSummary> out;
  OrderSummary s;
  long long total = 0, count = 0;
  const long long lim = limit, off = offset;
  soci::statement st = (sql.prepare << "SELECT id, created_at, status, total, currency, item_count FROM orders "
                                       "WHERE user_id = :u ORDER BY created_at DESC, rowid DESC LIMIT :l OFFSET :o",
                        soci::into(s.id), soci::into(s.created_at), soci::into(s.status), soci::into(total),
                        soci::into(s.currency), soci::into(count), soci::use(user_id), soci::use(lim), soci::use(off));
  st.execute();
  while (st.fetch()) {
    s.total = total;
    s.item_count = count;
    out.push_back(s);
  }
  return out;
}

std::int64_t count(soci::session& sql, const std::string& user_id) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM orders WHERE user_id = :u", soci::into(n), soci::use(user_id);
  return n;
}

bool transition(soci::session&, const std::string& id, const std::string& from, const std::string& to,
                const std::optional<std::string>& reason, const std::string& now) {
  auto& t = Database::current().prepared<Transition>();
  t.id = id, t.from = from, t.to = to, t.now = now;
  t.reason = reason.value_or("");
  t.reason_ind = reason ? soci::i_ok : soci::i_null;
  t.st.execute(true);
  return t.st.get_affected_rows() == 1;
}

void set_column(soci::session&, const std::string& id, const char* column, const std::string& value) {
  Database::current()
      .statement(fmt::format("UPDATE orders SET {} = ?1 WHERE id = ?2", column))
      .bind(1, value)
      .bind(2, id)
      .run();
}

void append(soci::session&, const std::string& id, const std::string& event, const std::string& at) {
  auto& a = Database::current().prepared<Append>();
  a.id = id, a.at = at, a.event = event;
  a.st.execute(true);
}

std::string next_invoice_number(soci::session&, int year) {
  auto& db = Database::current();
  auto& next = db.statement("INSERT INTO invoice_counters(year, last) VALUES(?1, 1) "
                            "ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last");
  next.bind(1, year);
  if (!next.next()) throw std::runtime_error("invoice counter not returned");
  const auto last = next.int64(0);
  next.run();  // to the end: a write statement still stepping would fail the savepoint's release
  return fmt::format("INV-{}-{:06d}", year, last);
}

}  // namespace eshop::ordering::store
