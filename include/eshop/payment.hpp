#pragma once
// The payment port: the card is exchanged for a token during checkout; the order is
// charged and refunded with that token later. Raw card data never goes further than tokenize().
#include <cstdint>
#include <string>
#include <string_view>

#include <eshop/error.hpp>
#include <eshop/money.hpp>

namespace eshop {

struct CardDetails {
  std::string number;  // digits only
  std::string holder;
  int expiry_month = 0;
  int expiry_year = 0;  // four digits
  std::string cvv;
};

struct CardToken {
  std::string token;
  std::string brand;  // "visa", "mastercard", "amex", "discover", "unknown"
  std::string last4;
};

struct ChargeResult {
  bool approved = false;
  std::string charge_id;       // when approved
  std::string decline_reason;  // when not
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  // Exchanges a card for a token; a validation error for a card the provider will not take.
  virtual Result<CardToken> tokenize(const CardDetails& card) = 0;
  // True when tokenize() answers from this process's memory, waiting for nothing (no network, no
  // disk): a checkout may then run on an I/O thread. A provider reached over the network: false.
  virtual bool tokenizes_at_once() const { return false; }
  // Charges the token. The same idempotency key always answers the same result and charges
  // at most once. Throws when the provider cannot be reached (the caller retries).
  virtual ChargeResult charge(const std::string& token, Money amount, const std::string& currency,
                              const std::string& idempotency_key) = 0;
  // Refunds a charge in full; idempotent per key. Throws when the provider cannot be reached.
  virtual void refund(const std::string& charge_id, const std::string& idempotency_key) = 0;
};

// Card rules every adapter shares.
namespace card {
std::string digits_only(std::string_view number);  // drops spaces and dashes; empty if anything else
bool luhn_valid(std::string_view digits);
std::string brand_of(std::string_view digits);
}  // namespace card

}  // namespace eshop
