#pragma once
// What a checkout request must hold, apart from HTTP so the rules are unit-testable.
#include <string>

#include <nlohmann/json.hpp>

#include <eshop/clock.hpp>
#include <eshop/error.hpp>
#include <eshop/payment.hpp>
#include <eshop/shipping.hpp>

namespace eshop::basket {

struct CheckoutRequest {
  ShippingAddress address;
  std::string delivery_note;
  CardDetails card;
  // A digest of the request without card number, expiry or CVV: tells a replay from a new request.
  std::string fingerprint;
};

// 422 with a message per field ("shippingAddress.city", "payment.expiry", ...): missing address
// fields, a card number failing the Luhn check, an expiry in the past, a malformed CVV.
Result<CheckoutRequest> parse_checkout(const nlohmann::json& body, TimePoint now);

}  // namespace eshop::basket
