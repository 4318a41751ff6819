#include "adapters/test_payment_provider.hpp"

#include <optional>

#include <eshop/clock.hpp>
#include <eshop/crypto.hpp>

namespace eshop::adapters {

TestPaymentProvider::TestPaymentProvider(Database& ledger) : ledger_(ledger) {
  ledger_.write([](Tx& tx) {
    // Portable SQL: the ledger may be a file or a PostgreSQL database like any module's.
    tx.execute("CREATE TABLE IF NOT EXISTS charges (idempotency_key TEXT PRIMARY KEY, charge_id TEXT, token TEXT NOT NULL, "
               "amount BIGINT NOT NULL, currency TEXT NOT NULL, approved BIGINT NOT NULL, refunded BIGINT NOT NULL "
               "DEFAULT 0, created_at TEXT NOT NULL)");
    tx.execute("CREATE TABLE IF NOT EXISTS refunds (idempotency_key TEXT PRIMARY KEY, charge_id TEXT NOT NULL)");
  });
}

namespace {

// A test token carries what the test provider needs to decide a charge: whether the card declines,
// its brand and last four digits (never the number). So the process that charges need not be the
// one that tokenized, and no ledger has to be shared between processes.
constexpr std::string_view kTokenPrefix = "tok_test_";

std::optional<bool> token_declines(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return std::nullopt;
  const auto flag = token.substr(kTokenPrefix.size(), 2);
  if (flag == "a_") return false;
  if (flag == "d_") return true;
  return std::nullopt;
}

}  // namespace

Result<CardToken> TestPaymentProvider::tokenize(const CardDetails& card) {
  const auto digits = card::digits_only(card.number);
  if (!card::luhn_valid(digits)) return fail(Error::invalid_field("payment.cardNumber", "is not a valid card number"));
  const auto brand = card::brand_of(digits);
  const auto last4 = digits.substr(digits.size() - 4);
  const char* flag = digits == kDeclinedTestCard ? "d_" : "a_";
  return CardToken{std::string(kTokenPrefix) + flag + brand + "_" + last4 + "_" + crypto::random_token(18), brand,
                   last4};
}

ChargeResult TestPaymentProvider::charge(const std::string& token, Money amount, const std::string& currency,
                                         const std::string& key) {
  return ledger_.write([&](Tx& tx) {
    ChargeResult r;
    auto& before = tx.statement("SELECT charge_id, approved FROM charges WHERE idempotency_key = ?1");
    before.bind(1, key);
    if (before.next()) {  // a retry: the same answer, no second charge
      r.approved = before.int64(1) == 1;
      if (r.approved) r.charge_id = before.text(0);
      else r.decline_reason = "card_declined";
      return r;
    }
    const auto declines = token_declines(token);
    const bool known = declines.has_value();
    r.approved = known && !*declines;
    if (r.approved) r.charge_id = "ch_" + crypto::random_token(18);
    else r.decline_reason = known ? "card_declined" : "unknown_token";
    tx.statement("INSERT INTO charges(idempotency_key, charge_id, token, amount, currency, approved, created_at) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, key)
        .bind(2, r.approved ? std::optional<std::string>(r.charge_id) : std::nullopt)
        .bind(3, token)
        .bind(4, amount.in_cents())
        .bind(5, currency)
        .bind(6, r.approved ? 1 : 0)
        .bind(7, to_rfc3339(std::chrono::system_clock::now()))
        .run();
    return r;
  });
}

void TestPaymentProvider::refund(const std::string& charge_id, const std::string& key) {
  ledger_.write([&](Tx& tx) {
    const int added = tx.statement("INSERT INTO refunds(idempotency_key, charge_id) VALUES(?1, ?2) ON CONFLICT DO NOTHING")
                          .bind(1, key)
                          .bind(2, charge_id)
                          .run();
    if (added > 0) tx.statement("UPDATE charges SET refunded = 1 WHERE charge_id = ?1").bind(1, charge_id).run();
  });
}

}  // namespace eshop::adapters
