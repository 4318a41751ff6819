#include "adapters/test_payment_provider.hpp"

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
  ledger_.write([&](soci::session& sql) {
    sql << "INSERT INTO tokens(token, brand, last4, declines) VALUES(:t, :b, :l, :d)", soci::use(t.token),
        soci::use(t.brand), soci::use(t.last4), soci::use(declines);
  });
  return t;
}

ChargeResult TestPaymentProvider::charge(const std::string& token, Money amount, const std::string& currency,
                                         const std::string& key) {
  return ledger_.write([&](soci::session& sql) {
    ChargeResult r;
    std::string charge_id;
    soci::indicator ind = soci::i_null;
    int approved = 0;
    sql << "SELECT charge_id, approved FROM charges WHERE idempotency_key = :k", soci::into(charge_id, ind),
        soci::into(approved), soci::use(key);
    if (sql.got_data()) {  // a retry: the same answer, no second charge
      r.approved = approved == 1;
      if (r.approved) r.charge_id = charge_id;
      else r.decline_reason = "card_declined";
      return r;
    }
    int declines = 1;
    sql << "SELECT declines FROM tokens WHERE token = :t", soci::into(declines), soci::use(token);
    const bool known = sql.got_data();
    r.approved = known && declines == 0;
    if (r.approved) r.charge_id = "ch_" + crypto::random_token(18);
    else r.decline_reason = known ? "card_declined" : "unknown_token";
    const long long cents = amount.in_cents();
    const int ok = r.approved ? 1 : 0;
    soci::indicator id_ind = r.approved ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO charges(idempotency_key, charge_id, token, amount, currency, approved) "
           "VALUES(:k, :c, :t, :a, :cur, :ok)",
        soci::use(key), soci::use(r.charge_id, id_ind), soci::use(token), soci::use(cents), soci::use(currency),
        soci::use(ok);
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
