#pragma once
// ordering's tables. Every function runs inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <eshop/database.hpp>
#include <eshop/shipping.hpp>

namespace eshop::ordering {

struct OrderItem {
  std::int64_t product_id = 0;
  std::string name;
  std::int64_t unit_price = 0;
  std::int64_t quantity = 0;
  std::int64_t line_total = 0;
  std::string image_url{};
};

struct TimelineEntry {
  std::string at;
  std::string event;
};

struct Order {
  std::string id, user_id, buyer_email, buyer_name;
  std::string status;
  std::optional<std::string> status_reason;
  std::string created_at, updated_at;
  std::int64_t item_count = 0, subtotal = 0, discount = 0, total = 0;
  std::optional<std::string> coupon_code;
  std::string coupon_description;
  std::string currency;
  ShippingAddress address;
  std::string delivery_note;
  std::string payment_token, card_brand, last4;
  std::optional<std::string> charge_id;
  bool refunded = false;
  std::optional<std::string> tracking_number, invoice_number;
  std::vector<OrderItem> items;
  std::vector<TimelineEntry> timeline;
};

struct OrderSummary {
  std::string id, created_at, status, currency;
  std::int64_t total = 0, item_count = 0;
};

namespace store {

// False when an order with this id exists already.
bool insert(Tx& tx, const Order& order);
std::optional<Order> find(Tx& tx, const std::string& id);
std::vector<OrderSummary> list(Tx& tx, const std::string& user_id, std::int64_t limit, std::int64_t offset);
std::int64_t count(Tx& tx, const std::string& user_id);

// Moves the order from `from` to `to` only if it is still in `from`: the saga's compare-and-set.
bool transition(Tx& tx, const std::string& id, const std::string& from, const std::string& to,
                const std::optional<std::string>& reason, const std::string& now);
void set_column(Tx& tx, const std::string& id, const char* column, const std::string& value);
void append(Tx& tx, const std::string& id, const std::string& event, const std::string& at);
std::string next_invoice_number(Tx& tx, int year);

}  // namespace store
}  // namespace eshop::ordering
