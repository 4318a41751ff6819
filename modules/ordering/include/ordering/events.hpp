#pragma once
// ordering's integration events: the steps of the place-order saga, public for anyone to follow.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace eshop::ordering::events {

// Each names the order; the saga's state lives in ordering's database, not in the event.
struct OrderEvent {
  std::string order_id;
};

struct OrderPlaced : OrderEvent {
  static constexpr std::string_view kType = "ordering.order_placed.v1";
};
struct OrderStockConfirmed : OrderEvent {
  static constexpr std::string_view kType = "ordering.order_stock_confirmed.v1";
};
struct OrderShipped : OrderEvent {
  static constexpr std::string_view kType = "ordering.order_shipped.v1";
};
struct OrderCompleted : OrderEvent {
  static constexpr std::string_view kType = "ordering.order_completed.v1";
};
struct OrderCancelled : OrderEvent {
  static constexpr std::string_view kType = "ordering.order_cancelled.v1";
};
// Compensation: the order's payment is to be refunded.
struct RefundRequested : OrderEvent {
  static constexpr std::string_view kType = "ordering.refund_requested.v1";
};

inline void to_json(nlohmann::json& j, const OrderEvent& e) { j = {{"orderId", e.order_id}}; }
inline void from_json(const nlohmann::json& j, OrderEvent& e) { e.order_id = j.at("orderId").get<std::string>(); }

}  // namespace eshop::ordering::events
