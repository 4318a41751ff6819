#include "store.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include <eshop/outbox.hpp>

namespace eshop::catalog {
namespace {

std::map<std::string, std::string> parse_attributes(const std::string& text) {
  std::map<std::string, std::string> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

std::string attributes_text(const std::map<std::string, std::string>& a) { return nlohmann::json(a).dump(); }

// The columns of a product row, in the order product_from() reads them.
constexpr const char* kProductColumns =
    "SELECT id, name, description, price, brand_id, category_id, supplier_id, available_stock, image_url, "
    "attributes, created_at, updated_at FROM products";

Product product_from(const Statement& q) {
  Product p;
  p.id = q.int64(0);
  p.name = q.text(1);
  p.description = q.text(2);
  p.price = q.int64(3);
  p.brand_id = q.int64(4);
  p.category_id = q.int64(5);
  if (!q.is_null(6)) p.supplier_id = q.int64(6);
  p.available_stock = q.int64(7);
  p.image_url = q.text(8);
  p.attributes = parse_attributes(q.text(9));
  p.created_at = q.text(10);
  p.updated_at = q.text(11);
  return p;
}

// Binds a product's columns to ?1..?9, in the order of the INSERT and UPDATE below.
void bind_product(Statement& st, const Product& p) {
  st.bind(1, p.name)
      .bind(2, p.description)
      .bind(3, p.price)
      .bind(4, p.brand_id)
      .bind(5, p.category_id)
      .bind(6, p.supplier_id)
      .bind(7, p.available_stock)
      .bind(8, p.image_url)
      .bind(9, attributes_text(p.attributes));
}

void insert_product(Tx& tx, Product& p) {
  auto& q = tx.statement("INSERT INTO products(name, description, price, brand_id, category_id, supplier_id, "
                         "available_stock, image_url, attributes, created_at, updated_at) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id");
  bind_product(q, p);
  q.bind(10, p.created_at).bind(11, p.updated_at);
  if (!q.next()) throw std::runtime_error("the new product's id was not returned");
  p.id = q.int64(0);
  q.run();  // to the end: a write statement still stepping would fail the savepoint's release
  tx.notify(kProductsChannel, std::to_string(p.id));
}

bool any_rows(Tx& tx, const char* sql) {
  auto& q = tx.statement(sql);
  return q.next() && q.int64(0) != 0;
}

}  // namespace

namespace stock {
// The saga's stock statements run for every order: cached per connection, not prepared per call.
namespace {
}  // namespace

std::optional<Product> find(Tx& tx, std::int64_t product_id) {
  static const std::string by_id = std::string(kProductColumns) + " WHERE id = ?1";
  auto& q = tx.statement(by_id);
  q.bind(1, product_id);
  if (!q.next()) return std::nullopt;
  return product_from(q);
}

bool take(Tx& tx, std::int64_t product_id, std::int64_t quantity, const std::string& now) {
  tx.notify(kProductsChannel, std::to_string(product_id));  // sent only if this commits
  return tx.statement("UPDATE products SET available_stock = available_stock - ?1, updated_at = ?2 "
                        "WHERE id = ?3 AND available_stock >= ?1")
             .bind(1, quantity)
             .bind(2, now)
             .bind(3, product_id)
             .run() == 1;
}

void give_back(Tx& tx, std::int64_t product_id, std::int64_t quantity, const std::string& now) {
  tx.notify(kProductsChannel, std::to_string(product_id));
  tx.statement("UPDATE products SET available_stock = available_stock + ?1, updated_at = ?2 WHERE id = ?3")
      .bind(1, quantity)
      .bind(2, now)
      .bind(3, product_id)
      .run();
}

void record_reservation(Tx& tx, const std::string& reservation_id, std::int64_t product_id,
                        std::int64_t quantity, const std::string& now) {
  tx.statement("INSERT INTO stock_reservations(reservation_id, product_id, quantity, created_at) "
                 "VALUES(?1, ?2, ?3, ?4)")
      .bind(1, reservation_id)
      .bind(2, product_id)
      .bind(3, quantity)
      .bind(4, now)
      .run();
}

std::vector<std::pair<std::int64_t, std::int64_t>> release(Tx& tx, const std::string& reservation_id) {
  std::vector<std::pair<std::int64_t, std::int64_t>> lines;
  auto& q = tx.statement("SELECT product_id, quantity FROM stock_reservations "
                           "WHERE reservation_id = ?1 AND released = 0 ORDER BY product_id");
  q.bind(1, reservation_id);
  while (q.next()) lines.emplace_back(q.int64(0), q.int64(1));
  tx.statement("UPDATE stock_reservations SET released = 1 WHERE reservation_id = ?1").bind(1, reservation_id).run();
  return lines;
}

}  // namespace stock

CatalogData CatalogStore::load_all() {
  return db_.read([](Tx& tx) {
    CatalogData d;
    auto& brands = tx.statement("SELECT id, name FROM brands");
    while (brands.next()) d.brands[brands.int64(0)] = {brands.int64(0), brands.text(1)};
    auto& categories = tx.statement("SELECT id, name FROM categories");
    while (categories.next()) d.categories[categories.int64(0)] = {categories.int64(0), categories.text(1)};
    auto& suppliers = tx.statement("SELECT id, name, country FROM suppliers");
    while (suppliers.next()) d.suppliers[suppliers.int64(0)] = {suppliers.int64(0), suppliers.text(1), suppliers.text(2)};
    static const std::string all = std::string(kProductColumns) + " ORDER BY id";
    auto& q = tx.statement(all);
    while (q.next()) d.products.push_back(product_from(q));
    return d;
  });
}

bool CatalogStore::is_empty() {
  return db_.read([](Tx& tx) {
    auto& q = tx.statement("SELECT (SELECT COUNT(*) FROM brands) + (SELECT COUNT(*) FROM products)");
    return q.next() && q.int64(0) == 0;
  });
}

void CatalogStore::load_demo(std::string_view document, const std::string& now) {
  const auto doc = nlohmann::json::parse(document);
  db_.write([&](Tx& tx) {
    // Checked again inside the transaction: instances starting together on one PostgreSQL
    // database load the demo once (the loser's transaction is run again, and finds it there).
    if (any_rows(tx, "SELECT (SELECT COUNT(*) FROM brands) + (SELECT COUNT(*) FROM products)")) return;
    std::map<std::string, std::int64_t> brand_ids, category_ids, supplier_ids;
    for (const auto& b : doc.at("brands")) {
      const std::int64_t id = b.at("id");
      const std::string name = b.at("name");
      tx.statement("INSERT INTO brands(id, name) VALUES(?1, ?2)").bind(1, id).bind(2, name).run();
      brand_ids[name] = id;
    }
    for (const auto& c : doc.at("categories")) {
      const std::int64_t id = c.at("id");
      const std::string name = c.at("name");
      tx.statement("INSERT INTO categories(id, name) VALUES(?1, ?2)").bind(1, id).bind(2, name).run();
      category_ids[name] = id;
    }
    for (const auto& s : doc.at("suppliers")) {
      const std::int64_t id = s.at("id");
      const std::string name = s.at("name"), country = s.at("country");
      tx.statement("INSERT INTO suppliers(id, name, country) VALUES(?1, ?2, ?3)").bind(1, id).bind(2, name).bind(3, country).run();
      supplier_ids[name] = id;
    }
    for (const auto& j : doc.at("products")) {
      Product p;
      p.name = j.at("name");
      p.description = j.value("description", "");
      p.price = j.at("price");
      p.brand_id = brand_ids.at(j.at("brand"));
      p.category_id = category_ids.at(j.at("category"));
      if (j.contains("supplier")) p.supplier_id = supplier_ids.at(j.at("supplier"));
      p.available_stock = j.value("availableStock", 0);
      p.image_url = j.value("imageUrl", "");
      p.attributes = j.value("attributes", std::map<std::string, std::string>{});
      p.created_at = p.updated_at = now;
      insert_product(tx, p);
    }
  });
}

Product CatalogStore::insert(Product product) {
  db_.write([&](Tx& tx) { insert_product(tx, product); });
  return product;
}

void CatalogStore::update(Tx& tx, const Product& p, const std::vector<Event>& events) {
  tx.notify(kProductsChannel, std::to_string(p.id));
  for (const auto& e : events) outbox::enqueue(tx, e);
  auto& st = tx.statement("UPDATE products SET name = ?1, description = ?2, price = ?3, brand_id = ?4, "
                          "category_id = ?5, supplier_id = ?6, available_stock = ?7, image_url = ?8, attributes = ?9, "
                          "updated_at = ?10 WHERE id = ?11");
  bind_product(st, p);
  st.bind(10, p.updated_at).bind(11, p.id).run();
}

bool CatalogStore::remove(std::int64_t id, const std::vector<Event>& events) {
  return db_.write([&](Tx& tx) {
    if (tx.statement("DELETE FROM products WHERE id = ?1").bind(1, id).run() == 0) return false;
    tx.notify(kProductsChannel, std::to_string(id));
    for (const auto& e : events) outbox::enqueue(tx, e);
    return true;
  });
}

}  // namespace eshop::catalog
