#include "adapters/test_payment_provider.hpp"

#include <optional>

#include <eshop/crypto.hpp>

namespace eshop::adapters {

TestPaymentProvider::TestPaymentProvider(Database& ledger) : ledger_(ledger) {
  ledger_.write([](soci::session& sql) {
    sql << "CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, brand TEXT NOT NULL, last4 TEXT NOT NULL, "
           "declines INTEGER NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))";
    sql << "CREATE TABLE IF NOT EXISTS charges (idempotency_key TEXT PRIMARY KEY, charge_id TEXT, token TEXT NOT NULL, "
           "amount INTEGER NOT NULL, currency TEXT NOT NULL, approved INTEGER NOT NULL, refunded INTEGER NOT NULL "
           "DEFAULT 0, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))";
    sql << "CREATE TABLE IF NOT EXISTS refunds (idempotency_key TEXT PRIMARY KEY, charge_id TEXT NOT NULL)";
  });
}

Result<CardToken> TestPaymentProvider::tokenize(const CardDetails& card) {
  const auto digits = card::digits_only(card.number);
  if (!card::luhn_valid(digits)) return fail(Error::invalid_field("payment.cardNumber", "is not a valid card number"));
  CardToken t{"tok_" + crypto::random_token(18), card::brand_of(digits), digits.substr(digits.size() - 4)};
  const int declines = digits == kDeclinedTestCard ? 1 : 0;
  ledger_.write([&](soci::session&) {
    ledger_.statement("INSERT INTO tokens(token, brand, last4, declines) VALUES(?1, ?2, ?3, ?4)")
        .bind(1, t.token)
        .bind(2, t.brand)
        .bind(3, t.last4)
        .bind(4, declines)
        .run();
  });
  return t;
}

ChargeResult TestPaymentProvider::charge(const std::string& token, Money amount, const std::string& currency,
                                         const std::string& key) {
  return ledger_.write([&](soci::session&) {
    ChargeResult r;
    auto& before = ledger_.statement("SELECT charge_id, approved FROM charges WHERE idempotency_key = ?1");
    before.bind(1, key);
    if (before.next()) {  // a retry: the same answer, no second charge
      r.approved = before.int64(1) == 1;
      if (r.approved) r.charge_id = before.text(0);
      else r.decline_reason = "card_declined";
      return r;
    }
    auto& token_row = ledger_.statement("SELECT declines FROM tokens WHERE token = ?1");
    token_row.bind(1, token);
    const bool known = token_row.next();
    r.approved = known && token_row.int64(0) == 0;
    if (r.approved) r.charge_id = "ch_" + crypto::random_token(18);
    else r.decline_reason = known ? "card_declined" : "unknown_token";
    ledger_.statement("INSERT INTO charges(idempotency_key, charge_id, token, amount, currency, approved) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, key)
        .bind(2, r.approved ? std::optional<std::string>(r.charge_id) : std::nullopt)
        .bind(3, token)
        .bind(4, amount.in_cents())
        .bind(5, currency)
        .bind(6, r.approved ? 1 : 0)
        .run();
    return r;
  });
}

void TestPaymentProvider::refund(const std::string& charge_id, const std::string& key) {
  ledger_.write([&](soci::session& sql) {
    soci::statement st = (sql.prepare << "INSERT OR IGNORE INTO refunds(idempotency_key, charge_id) VALUES(:k, :c)",
                          soci::use(key), soci::use(charge_id));
    st.execute(true);
    if (st.get_affected_rows() > 0) sql << "UPDATE charges SET refunded = 1 WHERE charge_id = :c", soci::use(charge_id);
  });
}

}  // namespace eshop::adapters
