#pragma once
// The built-in test payment provider, a stand-in for a real gateway such as Stripe. Its tokens
// are self-contained ("tok_test_a_visa_4242_..."): they say whether the card declines, its brand
// and last four digits, never the number, so any process can charge a token another tokenized.
// The charges and refunds go to the charging process's own ledger (an SQLite file), as a real
// provider keeps its records: restarts lose nothing and a repeated idempotency key never charges
// twice. It declines card 4000000000000002 and accepts every other valid card.
#include <eshop/database.hpp>
#include <eshop/payment.hpp>

namespace eshop::adapters {

inline constexpr const char* kDeclinedTestCard = "4000000000000002";

class TestPaymentProvider final : public PaymentProvider {
 public:
  explicit TestPaymentProvider(Database& ledger);
  Result<CardToken> tokenize(const CardDetails& card) override;
  bool tokenizes_at_once() const override { return true; }  // the card's rules and a random token
  ChargeResult charge(const std::string& token, Money amount, const std::string& currency,
                      const std::string& idempotency_key) override;
  void refund(const std::string& charge_id, const std::string& idempotency_key) override;

 private:
  Database& ledger_;
};

}  // namespace eshop::adapters
