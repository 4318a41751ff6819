#pragma once
// An order, as ordering keeps it: typed ids, amounts in Money, its status an enum.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/ids.hpp>
#include <eshop/money.hpp>
#include <eshop/shipping.hpp>

namespace eshop::ordering {

// The saga's states (saga.hpp shows which event moves an order from one to the next).
enum class OrderStatus { submitted, paid, stock_confirmed, shipped, completed, cancelled };

inline constexpr std::array<OrderStatus, 6> kAllStatuses{OrderStatus::submitted,       OrderStatus::paid,
                                                         OrderStatus::stock_confirmed, OrderStatus::shipped,
                                                         OrderStatus::completed,       OrderStatus::cancelled};

// The name stored in the orders table and shown in the API ("stock_confirmed").
constexpr std::string_view name_of(OrderStatus s) {
  switch (s) {
    case OrderStatus::submitted: return "submitted";
    case OrderStatus::paid: return "paid";
    case OrderStatus::stock_confirmed: return "stock_confirmed";
    case OrderStatus::shipped: return "shipped";
    case OrderStatus::completed: return "completed";
    case OrderStatus::cancelled: return "cancelled";
  }
  return "unknown";
}

constexpr std::optional<OrderStatus> status_named(std::string_view name) {
  for (const auto s : kAllStatuses)
    if (name_of(s) == name) return s;
  return std::nullopt;
}

struct OrderItem {
  ProductId product_id;
  std::string name;
  Money unit_price;
  std::int64_t quantity = 0;
  Money line_total;
  std::string image_url{};
};

struct TimelineEntry {
  std::string at;
  std::string event;
};

struct Order {
  OrderId id;
  UserId user_id;
  std::string buyer_email, buyer_name;
  OrderStatus status = OrderStatus::submitted;
  std::optional<std::string> status_reason;
  std::string created_at, updated_at;
  std::int64_t item_count = 0;
  Money subtotal, discount, total;
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
  OrderId id;
  std::string created_at;
  OrderStatus status = OrderStatus::submitted;
  std::string currency;
  Money total;
  std::int64_t item_count = 0;
};

}  // namespace eshop::ordering
