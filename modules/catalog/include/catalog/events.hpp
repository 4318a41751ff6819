#pragma once
// catalog's integration events: its public, versioned contract with other modules.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/ids.hpp>
#include <eshop/json_number.hpp>
#include <eshop/money.hpp>

namespace eshop::catalog::events {

// An admin changed a product's price.
struct ProductPriceChanged {
  static constexpr std::string_view kType = "catalog.product_price_changed.v1";
  ProductId product_id;
  Money old_price;
  Money new_price;
};

// Any change to a product: its current name, price, stock and picture.
struct ProductUpdated {
  static constexpr std::string_view kType = "catalog.product_updated.v1";
  ProductId product_id;
  std::string name;
  Money price;
  std::int64_t available_stock = 0;
  std::string image_url{};  // "imageUrl", added within v1: absent in older events (read as empty)
};

// The product no longer exists; its id is never reused.
struct ProductDeleted {
  static constexpr std::string_view kType = "catalog.product_deleted.v1";
  ProductId product_id;
};

// The stock contract catalog offers a saga: reserve (decrease) stock for a reservation id, all
// lines or none, never below zero; release a reservation again. Others publish the requests;
// catalog answers with StockReserved or StockReservationRejected, and StockReleased.
struct StockLine {
  ProductId product_id;
  std::int64_t quantity = 0;
};

struct StockReservationRequested {
  static constexpr std::string_view kType = "catalog.stock_reservation_requested.v1";
  std::string reservation_id;
  std::vector<StockLine> lines;
};

struct StockReserved {
  static constexpr std::string_view kType = "catalog.stock_reserved.v1";
  std::string reservation_id;
};

struct StockReservationRejected {
  static constexpr std::string_view kType = "catalog.stock_reservation_rejected.v1";
  std::string reservation_id;
  std::vector<ProductId> short_products;  // unknown, or not enough in stock
};

struct StockReleaseRequested {
  static constexpr std::string_view kType = "catalog.stock_release_requested.v1";
  std::string reservation_id;
};

struct StockReleased {
  static constexpr std::string_view kType = "catalog.stock_released.v1";
  std::string reservation_id;
};

inline void to_json(nlohmann::json& j, const StockReservationRequested& e) {
  auto lines = nlohmann::json::array();
  for (const auto& l : e.lines) lines.push_back({{"productId", l.product_id.value}, {"quantity", l.quantity}});
  j = {{"reservationId", e.reservation_id}, {"lines", lines}};
}
inline void from_json(const nlohmann::json& j, StockReservationRequested& e) {
  e.reservation_id = j.at("reservationId").get<std::string>();
  e.lines.clear();
  for (const auto& l : j.at("lines"))
    e.lines.push_back({ProductId{whole_number(l.at("productId"))}, whole_number(l.at("quantity"))});
}
inline void to_json(nlohmann::json& j, const StockReserved& e) { j = {{"reservationId", e.reservation_id}}; }
inline void from_json(const nlohmann::json& j, StockReserved& e) { e.reservation_id = j.at("reservationId").get<std::string>(); }
inline void to_json(nlohmann::json& j, const StockReservationRejected& e) {
  auto ids = nlohmann::json::array();
  for (const auto& id : e.short_products) ids.push_back(id.value);
  j = {{"reservationId", e.reservation_id}, {"shortProducts", ids}};
}
inline void from_json(const nlohmann::json& j, StockReservationRejected& e) {
  e.reservation_id = j.at("reservationId").get<std::string>();
  e.short_products.clear();
  for (const auto& id : j.at("shortProducts")) e.short_products.push_back(ProductId{whole_number(id)});
}
inline void to_json(nlohmann::json& j, const StockReleaseRequested& e) { j = {{"reservationId", e.reservation_id}}; }
inline void from_json(const nlohmann::json& j, StockReleaseRequested& e) {
  e.reservation_id = j.at("reservationId").get<std::string>();
}
inline void to_json(nlohmann::json& j, const StockReleased& e) { j = {{"reservationId", e.reservation_id}}; }
inline void from_json(const nlohmann::json& j, StockReleased& e) { e.reservation_id = j.at("reservationId").get<std::string>(); }

inline void to_json(nlohmann::json& j, const ProductPriceChanged& e) {
  j = {{"productId", e.product_id.value}, {"oldPrice", e.old_price.in_cents()}, {"newPrice", e.new_price.in_cents()}};
}
inline void from_json(const nlohmann::json& j, ProductPriceChanged& e) {
  e.product_id = ProductId{whole_number(j.at("productId"))};
  e.old_price = Money::cents(whole_number(j.at("oldPrice")));
  e.new_price = Money::cents(whole_number(j.at("newPrice")));
}
inline void to_json(nlohmann::json& j, const ProductUpdated& e) {
  j = {{"productId", e.product_id.value}, {"name", e.name}, {"price", e.price.in_cents()},
       {"availableStock", e.available_stock}, {"imageUrl", e.image_url}};
}
inline void from_json(const nlohmann::json& j, ProductUpdated& e) {
  e.product_id = ProductId{whole_number(j.at("productId"))};
  e.name = j.at("name").get<std::string>();
  e.price = Money::cents(whole_number(j.at("price")));
  e.available_stock = whole_number(j.at("availableStock"));
  e.image_url = j.contains("imageUrl") && j.at("imageUrl").is_string() ? j.at("imageUrl").get<std::string>() : "";
}
inline void to_json(nlohmann::json& j, const ProductDeleted& e) { j = {{"productId", e.product_id.value}}; }
inline void from_json(const nlohmann::json& j, ProductDeleted& e) {
  e.product_id = ProductId{whole_number(j.at("productId"))};
}

}  // namespace eshop::catalog::events
