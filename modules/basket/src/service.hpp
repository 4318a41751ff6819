#pragma once
// basket's use cases. The user always comes from the token, never from a body.
#include <exception>
#include <functional>
#include <string>

#include <basket/module.hpp>

#include "checkout.hpp"
#include "pricing.hpp"

namespace eshop::basket {

struct CheckoutAccepted {
  OrderId order_id;
};

class BasketService final {
 public:
  BasketService(Database& db, const Clock& clock, const catalog::Api& catalog, const discount::Api& discount,
                PaymentProvider& payments, std::string currency)
      : db_(db), clock_(clock), catalog_(catalog), discount_(discount), payments_(payments),
        currency_(std::move(currency)) {}

  // 503 (Retry-After) whenever the basket holds a coupon and the discount module cannot be asked.
  Result<PricedBasket> get(const UserId& user);
  // Adds `quantity` to the product's line: 404 unknown product, 409 beyond the stock.
  Result<PricedBasket> add(const UserId& user, ProductId product, std::int64_t quantity);
  // Sets the line's quantity; 0 removes it.
  Result<PricedBasket> set(const UserId& user, ProductId product, std::int64_t quantity);
  Result<PricedBasket> remove(const UserId& user, ProductId product);

  // The same changes of a line without a thread waiting for their commit (see Database::write_then):
  // `done` gets the basket as committed, or the refusal, or the exception that failed the write;
  // on the thread that committed, or on this one when refused before any write. Only where
  // writes_without_waiting(): nothing before the write waits either.
  struct Written {
    std::vector<Line> lines;
    std::optional<std::string> coupon_code;
  };
  using WrittenThen = std::function<void(std::exception_ptr, Result<Written>)>;
  bool writes_without_waiting() const { return db_.writes_in_background() && catalog_.answers_from_memory(); }
  void add_then(const UserId& user, ProductId product, std::int64_t quantity, WrittenThen done);
  void set_then(const UserId& user, ProductId product, std::int64_t quantity, WrittenThen done);
  void remove_then(const UserId& user, ProductId product, WrittenThen done);
  // A written basket priced: with its coupon's current terms (which asks discount, and may wait),
  // or, when it has none, at once.
  Result<PricedBasket> priced(Written written) const { return priced(std::move(written.lines), written.coupon_code); }
  PricedBasket priced_without_coupon(std::vector<Line> lines) const;
  // 422 when the code is unknown or the coupon does not apply to this basket now.
  Result<PricedBasket> apply_coupon(const UserId& user, const std::string& code);
  PricedBasket remove_coupon(const UserId& user);
  void clear(const UserId& user);
  // A guest's basket into the user's, in one transaction: each line's quantity added to the user's
  // line of that product, capped by the stock basket knows of (and the line limit); the guest's
  // coupon when the user has none. The guest's basket is then empty. Nothing to merge: nothing done.
  void merge(const UserId& user, const UserId& guest);
  // Empties the basket and publishes BasketCheckedOut in one transaction. With an idempotency
  // key, a replay answers the first order; the same key with another request is 422.
  Result<CheckoutAccepted> checkout(const Principal& buyer, const CheckoutRequest& request,
                                    const std::string& idempotency_key, const std::string& correlation_id);
  // The same checkout without a thread waiting for its commit, where checkout_without_waiting():
  // `done` gets the order or the refusal once committed, or the exception that failed the write
  // (on the thread that committed); or nothing at all when the basket holds a coupon, whose terms
  // discount gives (and may wait for): then checkout() on a worker answers instead, and this one's
  // transaction wrote nothing.
  using CheckoutThen = std::function<void(std::exception_ptr, std::optional<Result<CheckoutAccepted>>)>;
  bool checkout_without_waiting() const { return writes_without_waiting() && payments_.tokenizes_at_once(); }
  void checkout_then(const Principal& buyer, CheckoutRequest request, std::string idempotency_key,
                     std::string correlation_id, CheckoutThen done);

 private:
  // What a line change checks before its transaction: the quantity's bound, the product's facts.
  Result<catalog::ProductView> facts_for(ProductId product, std::int64_t quantity) const;
  // The line change inside its transaction.
  Result<Written> write_line(Tx& tx, const UserId& user, const catalog::ProductView& facts, std::int64_t quantity,
                             bool add, const std::string& now) const;
  // The basket as its transaction leaves it: lines and coupon code.
  static Written written(Tx& tx, const UserId& user);
  static Written remove_line(Tx& tx, const UserId& user, ProductId product);
  void put_line_then(const UserId& user, ProductId product, std::int64_t quantity, bool add, WrittenThen done);
  Result<PricedBasket> put_line(const UserId& user, ProductId product, std::int64_t quantity, bool add);
  Result<PricedBasket> priced(std::vector<Line> lines, const std::optional<std::string>& code) const;
  // A checkout's first checks in its transaction: the answer of an earlier checkout with this key,
  // or a refusal (empty basket, short of stock); otherwise nothing, and `current` holds the lines.
  std::optional<Result<CheckoutAccepted>> settled_before(Tx& tx, const Principal& buyer, const CheckoutRequest& request,
                                                         const std::string& key, std::vector<Line>& current) const;
  // The rest of it: the lines priced (with `terms`, if any) become the order's event in the outbox,
  // the basket is emptied and the key recorded.
  CheckoutAccepted record_checkout(Tx& tx, std::vector<Line> lines, const std::optional<discount::CouponTerms>& terms,
                                   const Principal& buyer, const CheckoutRequest& request, const CardToken& token,
                                   const std::string& key, const std::string& correlation_id, TimePoint now) const;
  // The current terms of the basket's coupon; none when there is none or it is gone; 503 when the
  // discount module cannot say.
  Result<std::optional<discount::CouponTerms>> coupon_terms(const std::optional<std::string>& code) const;

  Database& db_;
  const Clock& clock_;
  const catalog::Api& catalog_;
  const discount::Api& discount_;
  PaymentProvider& payments_;
  std::string currency_;
};

}  // namespace eshop::basket
