#include "store.hpp"

namespace eshop::basket::store {

std::vector<Line> lines(soci::session& sql, const std::string& user_id) {
  std::vector<Line> out;
  long long product = 0, price = 0, quantity = 0, stock = 0;
  std::string name;
  soci::statement st = (sql.prepare << "SELECT i.product_id, p.name, p.unit_price, i.quantity, p.available_stock "
                                       "FROM basket_items i JOIN basket_products p ON p.product_id = i.product_id "
                                       "WHERE i.user_id = :u ORDER BY i.added_at, i.product_id",
                        soci::into(product), soci::into(name), soci::into(price), soci::into(quantity),
                        soci::into(stock), soci::use(user_id));
  st.execute();
  while (st.fetch()) out.push_back({ProductId{product}, name, Money::cents(price), quantity, stock});
  return out;
}

std::optional<std::string> coupon_code(soci::session& sql, const std::string& user_id) {
  std::string code;
  soci::indicator ind = soci::i_null;
  sql << "SELECT coupon_code FROM baskets WHERE user_id = :u", soci::into(code, ind), soci::use(user_id);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return code;
}

std::int64_t quantity_of(soci::session& sql, const std::string& user_id, ProductId product) {
  long long q = 0;
  const long long id = product.value;
  sql << "SELECT quantity FROM basket_items WHERE user_id = :u AND product_id = :p", soci::into(q),
      soci::use(user_id), soci::use(id);
  return sql.got_data() ? q : 0;
}

namespace {

void touch(soci::session& sql, const std::string& user_id, const std::string& now) {
  sql << "INSERT INTO baskets(user_id, updated_at) VALUES(:u, :t) "
         "ON CONFLICT(user_id) DO UPDATE SET updated_at = excluded.updated_at",
      soci::use(user_id), soci::use(now);
}

}  // namespace

void upsert_line(soci::session& sql, const std::string& user_id, const Line& l, const std::string& now) {
  touch(sql, user_id, now);
  const long long id = l.product_id.value, price = l.unit_price.in_cents(), quantity = l.quantity,
                  stock = l.available_stock;
  sql << "INSERT INTO basket_products(product_id, name, unit_price, available_stock) VALUES(:p, :n, :price, :s) "
         "ON CONFLICT(product_id) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price, "
         "available_stock = excluded.available_stock",
      soci::use(id), soci::use(l.name), soci::use(price), soci::use(stock);
  sql << "INSERT INTO basket_items(user_id, product_id, quantity, added_at) VALUES(:u, :p, :q, :t) "
         "ON CONFLICT(user_id, product_id) DO UPDATE SET quantity = excluded.quantity",
      soci::use(user_id), soci::use(id), soci::use(quantity), soci::use(now);
}

void remove_line(soci::session& sql, const std::string& user_id, ProductId product) {
  const long long id = product.value;
  sql << "DELETE FROM basket_items WHERE user_id = :u AND product_id = :p", soci::use(user_id), soci::use(id);
}

void set_coupon(soci::session& sql, const std::string& user_id, const std::optional<std::string>& code,
                const std::string& now) {
  touch(sql, user_id, now);
  std::string value = code.value_or("");
  soci::indicator ind = code ? soci::i_ok : soci::i_null;
  sql << "UPDATE baskets SET coupon_code = :c WHERE user_id = :u", soci::use(value, ind), soci::use(user_id);
}

void clear(soci::session& sql, const std::string& user_id) {
  sql << "DELETE FROM basket_items WHERE user_id = :u", soci::use(user_id);
  sql << "DELETE FROM baskets WHERE user_id = :u", soci::use(user_id);
}

void update_price(soci::session& sql, ProductId product, Money price) {
  const long long id = product.value, cents = price.in_cents();
  sql << "UPDATE basket_products SET unit_price = :p WHERE product_id = :id", soci::use(cents), soci::use(id);
}

void update_product(soci::session& sql, ProductId product, const std::string& name, Money price, std::int64_t stock) {
  const long long id = product.value, cents = price.in_cents(), s = stock;
  sql << "UPDATE basket_products SET name = :n, unit_price = :p, available_stock = :s WHERE product_id = :id",
      soci::use(name), soci::use(cents), soci::use(s), soci::use(id);
}

void remove_product(soci::session& sql, ProductId product) {
  const long long id = product.value;
  sql << "DELETE FROM basket_items WHERE product_id = :id", soci::use(id);
  sql << "DELETE FROM basket_products WHERE product_id = :id", soci::use(id);
}

}  // namespace eshop::basket::store
