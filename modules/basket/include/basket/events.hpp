#pragma once
// basket's integration events: its public, versioned contract with other modules.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <eshop/ids.hpp>
#include <eshop/json_number.hpp>
#include <eshop/money.hpp>
#include <eshop/shipping.hpp>

namespace eshop::basket::events {

struct CheckedOutLine {
  ProductId product_id;
  std::string name;
  Money unit_price;  // frozen at checkout
  std::int64_t quantity = 0;
  Money line_total;
  std::string image_url{};  // "imageUrl", added within v1: absent in older events (read as empty)
};

struct CheckedOutCoupon {
  std::string code;
  std::string description;
  Money discount;
};

// A user checked out: the order to create, with everything frozen at that moment. The card is
// represented only by the payment provider's token, its brand and last four digits.
struct BasketCheckedOut {
  static constexpr std::string_view kType = "basket.checked_out.v1";
  OrderId order_id;
  UserId user_id;
  std::string buyer_email;
  std::string buyer_name;
  std::vector<CheckedOutLine> lines;
  Money subtotal;
  std::optional<CheckedOutCoupon> coupon;
  Money discount;
  Money total;
  std::string currency;
  ShippingAddress shipping_address;
  std::string delivery_note;
  std::string payment_token;
  std::string card_brand;
  std::string last4;
  std::string checked_out_at;  // RFC 3339
};

inline nlohmann::json address_to_json(const ShippingAddress& a) {
  return {{"fullName", a.full_name}, {"street", a.street}, {"city", a.city}, {"postalCode", a.postal_code},
       {"country", a.country}};
}
inline ShippingAddress address_from_json(const nlohmann::json& j) {
  ShippingAddress a;
  a.full_name = j.at("fullName").get<std::string>();
  a.street = j.at("street").get<std::string>();
  a.city = j.at("city").get<std::string>();
  a.postal_code = j.at("postalCode").get<std::string>();
  a.country = j.at("country").get<std::string>();
  return a;
}

inline void to_json(nlohmann::json& j, const BasketCheckedOut& e) {
  auto lines = nlohmann::json::array();
  for (const auto& l : e.lines)
    lines.push_back({{"productId", l.product_id.value}, {"name", l.name}, {"unitPrice", l.unit_price.in_cents()},
                     {"quantity", l.quantity}, {"lineTotal", l.line_total.in_cents()}, {"imageUrl", l.image_url}});
  nlohmann::json coupon = nullptr;
  if (e.coupon)
    coupon = {{"code", e.coupon->code}, {"description", e.coupon->description}, {"discount", e.coupon->discount.in_cents()}};
  j = {{"orderId", e.order_id.value}, {"userId", e.user_id.value}, {"buyerEmail", e.buyer_email},
       {"buyerName", e.buyer_name}, {"lines", lines}, {"subtotal", e.subtotal.in_cents()}, {"coupon", coupon},
       {"discount", e.discount.in_cents()}, {"total", e.total.in_cents()}, {"currency", e.currency},
       {"shippingAddress", address_to_json(e.shipping_address)}, {"deliveryNote", e.delivery_note},
       {"payment", {{"token", e.payment_token}, {"cardBrand", e.card_brand}, {"last4", e.last4}}},
       {"checkedOutAt", e.checked_out_at}};
}

inline void from_json(const nlohmann::json& j, BasketCheckedOut& e) {
  e.order_id = OrderId{j.at("orderId").get<std::string>()};
  e.user_id = UserId{j.at("userId").get<std::string>()};
  e.buyer_email = j.at("buyerEmail").get<std::string>();
  e.buyer_name = j.at("buyerName").get<std::string>();
  e.lines.clear();
  for (const auto& l : j.at("lines"))
    e.lines.push_back({ProductId{whole_number(l.at("productId"))}, l.at("name").get<std::string>(),
                       Money::cents(whole_number(l.at("unitPrice"))), whole_number(l.at("quantity")),
                       Money::cents(whole_number(l.at("lineTotal"))),
                       l.contains("imageUrl") && l.at("imageUrl").is_string() ? l.at("imageUrl").get<std::string>() : ""});
  e.subtotal = Money::cents(whole_number(j.at("subtotal")));
  e.coupon.reset();
  if (const auto& c = j.at("coupon"); !c.is_null())
    e.coupon = CheckedOutCoupon{c.at("code").get<std::string>(), c.at("description").get<std::string>(),
                                Money::cents(whole_number(c.at("discount")))};
  e.discount = Money::cents(whole_number(j.at("discount")));
  e.total = Money::cents(whole_number(j.at("total")));
  e.currency = j.at("currency").get<std::string>();
  e.shipping_address = address_from_json(j.at("shippingAddress"));
  e.delivery_note = j.at("deliveryNote").get<std::string>();
  e.payment_token = j.at("payment").at("token").get<std::string>();
  e.card_brand = j.at("payment").at("cardBrand").get<std::string>();
  e.last4 = j.at("payment").at("last4").get<std::string>();
  e.checked_out_at = j.at("checkedOutAt").get<std::string>();
}

// The compensation basket offers the saga (as catalog offers its stock contract): a checkout that
// did not become an order through no choice of the customer's (payment_declined, out_of_stock)
// gives the customer the lines back. Basket puts them back in the user's basket, added to whatever
// the basket holds by then, and the coupon too when the basket has none; once per order.
struct BasketRestoreRequested {
  static constexpr std::string_view kType = "basket.restore_requested.v1";
  struct Line {
    ProductId product_id;
    std::int64_t quantity = 0;
  };
  OrderId order_id;
  UserId user_id;
  std::string reason;  // the order's statusReason
  std::vector<Line> lines;
  std::optional<std::string> coupon_code;
};

inline void to_json(nlohmann::json& j, const BasketRestoreRequested& e) {
  auto lines = nlohmann::json::array();
  for (const auto& l : e.lines) lines.push_back({{"productId", l.product_id.value}, {"quantity", l.quantity}});
  j = {{"orderId", e.order_id.value}, {"userId", e.user_id.value}, {"reason", e.reason}, {"lines", lines},
       {"couponCode", e.coupon_code ? nlohmann::json(*e.coupon_code) : nlohmann::json(nullptr)}};
}

inline void from_json(const nlohmann::json& j, BasketRestoreRequested& e) {
  e.order_id = OrderId{j.at("orderId").get<std::string>()};
  e.user_id = UserId{j.at("userId").get<std::string>()};
  e.reason = j.at("reason").get<std::string>();
  e.lines.clear();
  for (const auto& l : j.at("lines"))
    e.lines.push_back({ProductId{whole_number(l.at("productId"))}, whole_number(l.at("quantity"))});
  e.coupon_code.reset();
  if (const auto& c = j.at("couponCode"); !c.is_null()) e.coupon_code = c.get<std::string>();
}

}  // namespace eshop::basket::events
