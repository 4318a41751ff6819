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

Product product_from(const CachedStatement& q) {
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

void insert_product(soci::session& sql, Product& p) {
  const std::string attrs = attributes_text(p.attributes);
  const long long price = p.price, brand = p.brand_id, category = p.category_id, stock = p.available_stock;
  const long long supplier = p.supplier_id.value_or(0);
  soci::indicator supplier_ind = p.supplier_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO products(name, description, price, brand_id, category_id, supplier_id, available_stock, "
         "image_url, attributes, created_at, updated_at) VALUES(:n, :d, :p, :b, :c, :s, :st, :i, :a, :ca, :ua)",
      soci::use(p.name), soci::use(p.description), soci::use(price), soci::use(brand), soci::use(category),
      soci::use(supplier, supplier_ind), soci::use(stock), soci::use(p.image_url), soci::use(attrs),
      soci::use(p.created_at), soci::use(p.updated_at);
  long long id = 0;
  sql << "SELECT last_insert_rowid()", soci::into(id);
  p.id = id;
}

}  // namespace

namespace stock {
// The saga's stock statements run for every order: cached per connection, not prepared per call.
namespace {
Database& db() { return Database::current(); }
}  // namespace

std::optional<Product> find(soci::session&, std::int64_t product_id) {
  static const std::string by_id = std::string(kProductColumns) + " WHERE id = ?1";
  auto& q = db().statement(by_id);
  q.bind(1, product_id);
  if (!q.next()) return std::nullopt;
  return product_from(q);
}

bool take(soci::session&, std::int64_t product_id, std::int64_t quantity, const std::string& now) {
  return db()
             .statement("UPDATE products SET available_stock = available_stock - ?1, updated_at = ?2 "
                        "WHERE id = ?3 AND available_stock >= ?1")
             .bind(1, quantity)
             .bind(2, now)
             .bind(3, product_id)
             .run() == 1;
}

void give_back(soci::session&, std::int64_t product_id, std::int64_t quantity, const std::string& now) {
  db().statement("UPDATE products SET available_stock = available_stock + ?1, updated_at = ?2 WHERE id = ?3")
      .bind(1, quantity)
      .bind(2, now)
      .bind(3, product_id)
      .run();
}

void record_reservation(soci::session&, const std::string& reservation_id, std::int64_t product_id,
                        std::int64_t quantity, const std::string& now) {
  db().statement("INSERT INTO stock_reservations(reservation_id, product_id, quantity, created_at) "
                 "VALUES(?1, ?2, ?3, ?4)")
      .bind(1, reservation_id)
      .bind(2, product_id)
      .bind(3, quantity)
      .bind(4, now)
      .run();
}

std::vector<std::pair<std::int64_t, std::int64_t>> release(soci::session&, const std::string& reservation_id) {
  std::vector<std::pair<std::int64_t, std::int64_t>> lines;
  auto& q = db().statement("SELECT product_id, quantity FROM stock_reservations "
                           "WHERE reservation_id = ?1 AND released = 0 ORDER BY product_id");
  q.bind(1, reservation_id);
  while (q.next()) lines.emplace_back(q.int64(0), q.int64(1));
  db().statement("UPDATE stock_reservations SET released = 1 WHERE reservation_id = ?1").bind(1, reservation_id).run();
  return lines;
}

}  // namespace stock

CatalogData CatalogStore::load_all() {
  return db_.read([this](soci::session& sql) {
    CatalogData d;
    {
      long long id = 0;
      std::string name, country;
      soci::statement st = (sql.prepare << "SELECT id, name FROM brands", soci::into(id), soci::into(name));
      st.execute();
      while (st.fetch()) d.brands[id] = {id, name};
      soci::statement sc = (sql.prepare << "SELECT id, name FROM categories", soci::into(id), soci::into(name));
      sc.execute();
      while (sc.fetch()) d.categories[id] = {id, name};
      soci::statement ss =
          (sql.prepare << "SELECT id, name, country FROM suppliers", soci::into(id), soci::into(name), soci::into(country));
      ss.execute();
      while (ss.fetch()) d.suppliers[id] = {id, name, country};
    }
    auto& q = db_.statement(kProductColumns);
    while (q.next()) d.products.push_back(product_from(q));
    return d;
  });
}

bool CatalogStore::is_empty() {
  return db_.read([](soci::session& sql) {
    int n = 0;
    sql << "SELECT (SELECT COUNT(*) FROM brands) + (SELECT COUNT(*) FROM products)", soci::into(n);
    return n == 0;
  });
}

void CatalogStore::load_demo(std::string_view document, const std::string& now) {
  const auto doc = nlohmann::json::parse(document);
  db_.write([&](soci::session& sql) {
    std::map<std::string, long long> brand_ids, category_ids, supplier_ids;
    for (const auto& b : doc.at("brands")) {
      const long long id = b.at("id");
      const std::string name = b.at("name");
      sql << "INSERT INTO brands(id, name) VALUES(:i, :n)", soci::use(id), soci::use(name);
      brand_ids[name] = id;
    }
    for (const auto& c : doc.at("categories")) {
      const long long id = c.at("id");
      const std::string name = c.at("name");
      sql << "INSERT INTO categories(id, name) VALUES(:i, :n)", soci::use(id), soci::use(name);
      category_ids[name] = id;
    }
    for (const auto& s : doc.at("suppliers")) {
      const long long id = s.at("id");
      const std::string name = s.at("name"), country = s.at("country");
      sql << "INSERT INTO suppliers(id, name, country) VALUES(:i, :n, :c)", soci::use(id), soci::use(name),
          soci::use(country);
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
      insert_product(sql, p);
    }
  });
}

Product CatalogStore::insert(Product product) {
  db_.write([&](soci::session& sql) { insert_product(sql, product); });
  return product;
}

void CatalogStore::update(soci::session& sql, const Product& p, const std::vector<Event>& events) {
  {
    for (const auto& e : events) outbox::enqueue(sql, e);
    const std::string attrs = attributes_text(p.attributes);
    const long long id = p.id, price = p.price, brand = p.brand_id, category = p.category_id, stock = p.available_stock;
    const long long supplier = p.supplier_id.value_or(0);
    soci::indicator supplier_ind = p.supplier_id ? soci::i_ok : soci::i_null;
    sql << "UPDATE products SET name = :n, description = :d, price = :p, brand_id = :b, category_id = :c, "
           "supplier_id = :s, available_stock = :st, image_url = :i, attributes = :a, updated_at = :ua WHERE id = :id",
        soci::use(p.name), soci::use(p.description), soci::use(price), soci::use(brand), soci::use(category),
        soci::use(supplier, supplier_ind), soci::use(stock), soci::use(p.image_url), soci::use(attrs),
        soci::use(p.updated_at), soci::use(id);
  }
}

bool CatalogStore::remove(std::int64_t id, const std::vector<Event>& events) {
  return db_.write([&](soci::session& sql) {
    const long long v = id;
    soci::statement st = (sql.prepare << "DELETE FROM products WHERE id = :id", soci::use(v));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    for (const auto& e : events) outbox::enqueue(sql, e);
    return true;
  });
}

}  // namespace eshop::catalog
