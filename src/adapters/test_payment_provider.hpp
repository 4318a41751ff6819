#pragma once
// The built-in test payment provider, a stand-in for a real gateway such as Stripe. It keeps its
// own ledger (tokens, charges, refunds) in its own SQLite file, as a real provider keeps its
// records on its side: restarts lose nothing and a repeated idempotency key never charges twice.
// It declines card 4000000000000002 and accepts every other valid card. It stores no card number.
#include <eshop/database.hpp>
#include <eshop/payment.hpp>

namespace eshop::adapters {

inline constexpr const char* kDeclinedTestCard = "4000000000000002";

class TestPaymentProvider final : public PaymentProvider {
 public:
  explicit TestPaymentProvider(Database& ledger);
  Result<CardToken> tokenize(const CardDetails& card) override;
  ChargeResult charge(const std::string& token, Money amount, const std::string& currency,
                      const std::string& idempotency_key) override;
  void refund(const std::string& charge_id, const std::string& idempotency_key) override;

 private:
  Database& ledger_;
};

}  // namespace eshop::adapters
