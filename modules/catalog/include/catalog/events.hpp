#pragma once
// catalog's integration events: its public, versioned contract with other modules.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <eshop/ids.hpp>
#include <eshop/money.hpp>

namespace eshop::catalog::events {

// An admin changed a product's price.
struct ProductPriceChanged {
  static constexpr std::string_view kType = "catalog.product_price_changed.v1";
  ProductId product_id;
  Money old_price;
  Money new_price;
};

// Any change to a product: its current name, price and stock.
struct ProductUpdated {
  static constexpr std::string_view kType = "catalog.product_updated.v1";
  ProductId product_id;
  std::string name;
  Money price;
  std::int64_t available_stock = 0;
};

// The product no longer exists; its id is never reused.
struct ProductDeleted {
  static constexpr std::string_view kType = "catalog.product_deleted.v1";
  ProductId product_id;
};

inline void to_json(nlohmann::json& j, const ProductPriceChanged& e) {
  j = {{"productId", e.product_id.value}, {"oldPrice", e.old_price.in_cents()}, {"newPrice", e.new_price.in_cents()}};
}
inline void from_json(const nlohmann::json& j, ProductPriceChanged& e) {
  e.product_id = ProductId{j.at("productId").get<std::int64_t>()};
  e.old_price = Money::cents(j.at("oldPrice").get<std::int64_t>());
  e.new_price = Money::cents(j.at("newPrice").get<std::int64_t>());
}
inline void to_json(nlohmann::json& j, const ProductUpdated& e) {
  j = {{"productId", e.product_id.value}, {"name", e.name}, {"price", e.price.in_cents()},
       {"availableStock", e.available_stock}};
}
inline void from_json(const nlohmann::json& j, ProductUpdated& e) {
  e.product_id = ProductId{j.at("productId").get<std::int64_t>()};
  e.name = j.at("name").get<std::string>();
  e.price = Money::cents(j.at("price").get<std::int64_t>());
  e.available_stock = j.at("availableStock").get<std::int64_t>();
}
inline void to_json(nlohmann::json& j, const ProductDeleted& e) { j = {{"productId", e.product_id.value}}; }
inline void from_json(const nlohmann::json& j, ProductDeleted& e) {
  e.product_id = ProductId{j.at("productId").get<std::int64_t>()};
}

}  // namespace eshop::catalog::events
