#pragma once
// catalog's tables. Only this file speaks SQL.
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <eshop/database.hpp>
#include <eshop/event_bus.hpp>

#include "model.hpp"

namespace eshop::catalog {

// Every write of a product notifies its id here, for the other instances' read models (on a
// shared PostgreSQL database; a no-op on SQLite).
inline constexpr std::string_view kProductsChannel = "products";

struct CatalogData {
  std::vector<Product> products;
  std::map<std::int64_t, Brand> brands;
  std::map<std::int64_t, Category> categories;
  std::map<std::int64_t, Supplier> suppliers;
};

// Stock for sagas; inside the caller's transaction.
namespace stock {
// The product as committed (inside this transaction), or nullopt when there is none.
std::optional<Product> find(Tx& tx, std::int64_t product_id);
// Decreases the stock if at least `quantity` is there; false (and no change) otherwise.
bool take(Tx& tx, std::int64_t product_id, std::int64_t quantity, const std::string& now);
void give_back(Tx& tx, std::int64_t product_id, std::int64_t quantity, const std::string& now);
void record_reservation(Tx& tx, const std::string& reservation_id, std::int64_t product_id,
                        std::int64_t quantity, const std::string& now);
// The reservation's lines not yet released, marking them released.
std::vector<std::pair<std::int64_t, std::int64_t>> release(Tx& tx, const std::string& reservation_id);
}  // namespace stock

class CatalogStore final {
 public:
  explicit CatalogStore(Database& db) : db_(db) {}

  CatalogData load_all();
  bool is_empty();
  // Loads the demo catalog document (see data/demo_catalog.json) in one transaction.
  void load_demo(std::string_view document, const std::string& now);

  // Each write stores `events` in the outbox in the same transaction.
  // Returns the new product with its id.
  Product insert(Product product);
  // Inside the caller's transaction.
  void update(Tx& tx, const Product& product, const std::vector<Event>& events);
  // False (and no events) when there was no such product.
  bool remove(std::int64_t id, const std::vector<Event>& events);

 private:
  Database& db_;
};

}  // namespace eshop::catalog
