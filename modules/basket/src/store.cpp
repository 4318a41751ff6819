#include "store.hpp"

#include <algorithm>

namespace eshop::basket::store {
// Every basket request runs several of these: statements cached per connection, not prepared
// per call (see Database::statement), on the connection of the caller's read() or write().
namespace {


void touch(Tx& tx, const std::string& user_id, const std::string& now) {
  tx.statement("INSERT INTO baskets(user_id, updated_at) VALUES(?1, ?2) "
                 "ON CONFLICT(user_id) DO UPDATE SET updated_at = excluded.updated_at")
      .bind(1, user_id)
      .bind(2, now)
      .run();
}

}  // namespace

std::vector<Line> lines(Tx& tx, const std::string& user_id) {
  std::vector<Line> out;
  auto& q = tx.statement("SELECT i.product_id, p.name, p.unit_price, i.quantity, p.available_stock, p.image_url "
                           "FROM basket_items i JOIN basket_products p ON p.product_id = i.product_id "
                           "WHERE i.user_id = ?1 ORDER BY i.added_at, i.product_id");
  q.bind(1, user_id);
  while (q.next())
    out.push_back({ProductId{q.int64(0)}, q.text(1), Money::cents(q.int64(2)), q.int64(3), q.int64(4), q.text(5)});
  return out;
}

std::optional<std::string> coupon_code(Tx& tx, const std::string& user_id) {
  auto& q = tx.statement("SELECT coupon_code FROM baskets WHERE user_id = ?1");
  q.bind(1, user_id);
  if (!q.next() || q.is_null(0)) return std::nullopt;
  return q.text(0);
}

std::int64_t quantity_of(Tx& tx, const std::string& user_id, ProductId product) {
  auto& q = tx.statement("SELECT quantity FROM basket_items WHERE user_id = ?1 AND product_id = ?2");
  q.bind(1, user_id).bind(2, product.value);
  return q.next() ? q.int64(0) : 0;
}

void upsert_line(Tx& tx, const std::string& user_id, const Line& l, const std::string& now) {
  touch(tx, user_id, now);
  tx.statement("INSERT INTO basket_products(product_id, name, unit_price, available_stock, image_url) "
                 "VALUES(?1, ?2, ?3, ?4, ?5) "
                 "ON CONFLICT(product_id) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price, "
                 "available_stock = excluded.available_stock, image_url = excluded.image_url "
                 // Only when catalog's facts changed: every basket write of a popular product would
                 // otherwise rewrite its one shared row, and concurrent writers would conflict on it.
                 "WHERE basket_products.name <> excluded.name OR basket_products.unit_price <> excluded.unit_price "
                 "OR basket_products.available_stock <> excluded.available_stock "
                 "OR basket_products.image_url <> excluded.image_url")
      .bind(1, l.product_id.value)
      .bind(2, l.name)
      .bind(3, l.unit_price.in_cents())
      .bind(4, l.available_stock)
      .bind(5, l.image_url)
      .run();
  tx.statement("INSERT INTO basket_items(user_id, product_id, quantity, added_at) VALUES(?1, ?2, ?3, ?4) "
                 "ON CONFLICT(user_id, product_id) DO UPDATE SET quantity = excluded.quantity")
      .bind(1, user_id)
      .bind(2, l.product_id.value)
      .bind(3, l.quantity)
      .bind(4, now)
      .run();
}

bool add_quantity(Tx& tx, const std::string& user_id, ProductId product, std::int64_t quantity,
                  std::int64_t max, const std::string& now) {
  auto& known = tx.statement("SELECT 1 FROM basket_products WHERE product_id = ?1");
  known.bind(1, product.value);
  if (!known.next()) return false;
  touch(tx, user_id, now);
  tx.statement("INSERT INTO basket_items(user_id, product_id, quantity, added_at) VALUES(?1, ?2, ?3, ?4) "
                 "ON CONFLICT(user_id, product_id) DO UPDATE SET quantity = CASE "
                 "WHEN basket_items.quantity + excluded.quantity < ?5 THEN basket_items.quantity + excluded.quantity "
                 "ELSE ?5 END")
      .bind(1, user_id)
      .bind(2, product.value)
      .bind(3, std::min(quantity, max))
      .bind(4, now)
      .bind(5, max)
      .run();
  return true;
}

void remove_line(Tx& tx, const std::string& user_id, ProductId product) {
  tx.statement("DELETE FROM basket_items WHERE user_id = ?1 AND product_id = ?2")
      .bind(1, user_id)
      .bind(2, product.value)
      .run();
}

void set_coupon(Tx& tx, const std::string& user_id, const std::optional<std::string>& code,
                const std::string& now) {
  touch(tx, user_id, now);
  tx.statement("UPDATE baskets SET coupon_code = ?1 WHERE user_id = ?2").bind(1, code).bind(2, user_id).run();
}

void clear(Tx& tx, const std::string& user_id) {
  tx.statement("DELETE FROM basket_items WHERE user_id = ?1").bind(1, user_id).run();
  tx.statement("DELETE FROM baskets WHERE user_id = ?1").bind(1, user_id).run();
}

void update_price(Tx& tx, ProductId product, Money price) {
  tx.statement("UPDATE basket_products SET unit_price = ?1 WHERE product_id = ?2")
      .bind(1, price.in_cents())
      .bind(2, product.value)
      .run();
}

void update_product(Tx& tx, ProductId product, const std::string& name, Money price, std::int64_t stock,
                    const std::string& image_url) {
  tx.statement("UPDATE basket_products SET name = ?1, unit_price = ?2, available_stock = ?3, image_url = ?5 "
                 "WHERE product_id = ?4")
      .bind(1, name)
      .bind(2, price.in_cents())
      .bind(3, stock)
      .bind(4, product.value)
      .bind(5, image_url)
      .run();
}

void remove_product(Tx& tx, ProductId product) {
  tx.statement("DELETE FROM basket_items WHERE product_id = ?1").bind(1, product.value).run();
  tx.statement("DELETE FROM basket_products WHERE product_id = ?1").bind(1, product.value).run();
}

}  // namespace eshop::basket::store
