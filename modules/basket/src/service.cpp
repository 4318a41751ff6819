#include "service.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>

#include <basket/events.hpp>
#include <eshop/crypto.hpp>
#include <eshop/outbox.hpp>

#include "store.hpp"

namespace eshop::basket {
namespace {

Error too_many_on_a_line() {
  return Error::invalid_field("quantity", "a line holds at most " + std::to_string(kMaxLineQuantity));
}

}  // namespace

Result<std::optional<discount::CouponTerms>> BasketService::coupon_terms(const std::optional<std::string>& code) const {
  if (!code) return std::nullopt;
  // The coupon's current terms, every time: an admin's change shows at once. A coupon that is gone
  // no longer applies; a discount module that does not answer is no reason to drop a coupon the
  // customer saw applied, so that is a 503 to retry, never a silently higher price.
  auto found = discount_.find_coupon(*code);
  if (found) return std::optional<discount::CouponTerms>(std::move(*found));
  if (found.error().code == ErrorCode::not_found) return std::nullopt;
  return fail(Error::unavailable("The basket's coupon cannot be checked now: the discount module is unavailable. "
                                 "Retry shortly."));
}

Result<PricedBasket> BasketService::priced(std::vector<Line> lines, const std::optional<std::string>& code) const {
  auto terms = coupon_terms(code);
  if (!terms) return fail(terms.error());
  return price(std::move(lines), *terms, clock_.now());
}

Result<PricedBasket> BasketService::get(const UserId& user) {
  auto [lines, code] = db_.read([&](Tx& tx) {
    // Lines first, then the coupon (two statements, two snapshots): the saga's compensation gives
    // both back in one commit, so a read that sees the lines sees the coupon too. (As arguments of
    // one call their order was the compiler's: the coupon was read first, and could be missed.)
    auto basket_lines = store::lines(tx, user.value);
    auto coupon = store::coupon_code(tx, user.value);
    return std::make_pair(std::move(basket_lines), std::move(coupon));
  });
  return priced(std::move(lines), code);
}

namespace {

// A write_then()'s continuation: the result its work left, or the exception that failed it.
std::function<void(std::exception_ptr)> handing_on(
    std::shared_ptr<std::optional<Result<BasketService::Written>>> result, BasketService::WrittenThen done) {
  return [result = std::move(result), done = std::move(done)](std::exception_ptr error) {
    if (error || !*result)
      return done(error ? error : std::make_exception_ptr(std::logic_error("the write left no result")),
                  fail(Error::make(ErrorCode::internal, "")));
    done(nullptr, std::move(**result));
  };
}

}  // namespace

Result<catalog::ProductView> BasketService::facts_for(ProductId product, std::int64_t quantity) const {
  // Checked before any arithmetic: a line and a quantity of at most kMaxLineQuantity each add up
  // far below any integer's limit.
  if (quantity > kMaxLineQuantity) return fail(too_many_on_a_line());
  auto facts = catalog_.find_product(product);
  if (facts) facts->id = product;
  return facts;
}

Result<BasketService::Written> BasketService::write_line(Tx& tx, const UserId& user, const catalog::ProductView& facts,
                                                          std::int64_t quantity, bool add, const std::string& now) const {
  const auto wanted = add ? store::quantity_of(tx, user.value, facts.id) + quantity : quantity;
  if (wanted > kMaxLineQuantity) return fail(too_many_on_a_line());
  if (wanted > facts.available_stock)
    return fail(Error::conflict("Only " + std::to_string(facts.available_stock) + " of this product " +
                                (facts.available_stock == 1 ? "is" : "are") + " available."));
  store::upsert_line(tx, user.value, {facts.id, facts.name, facts.price, wanted, facts.available_stock, facts.image_url},
                     now);
  return written(tx, user);
}

BasketService::Written BasketService::written(Tx& tx, const UserId& user) {
  return {store::lines(tx, user.value), store::coupon_code(tx, user.value)};
}

BasketService::Written BasketService::remove_line(Tx& tx, const UserId& user, ProductId product) {
  store::remove_line(tx, user.value, product);
  return written(tx, user);
}

Result<PricedBasket> BasketService::put_line(const UserId& user, ProductId product, std::int64_t quantity, bool add) {
  const auto facts = facts_for(product, quantity);
  if (!facts) return fail(facts.error());
  const auto now = to_rfc3339(clock_.now());
  auto written = db_.write([&](Tx& tx) { return write_line(tx, user, *facts, quantity, add, now); });
  if (!written) return fail(written.error());
  return priced(std::move(*written));
}

void BasketService::put_line_then(const UserId& user, ProductId product, std::int64_t quantity, bool add,
                                  WrittenThen done) {
  auto facts = facts_for(product, quantity);
  if (!facts) return done(nullptr, fail(facts.error()));
  auto result = std::make_shared<std::optional<Result<Written>>>();
  db_.write_then(
      [this, result, user, facts = std::move(*facts), quantity, add, now = to_rfc3339(clock_.now())](Tx& tx) {
        result->emplace(write_line(tx, user, facts, quantity, add, now));
      },
      handing_on(result, std::move(done)));
}

void BasketService::add_then(const UserId& user, ProductId product, std::int64_t quantity, WrittenThen done) {
  put_line_then(user, product, quantity, true, std::move(done));
}

void BasketService::set_then(const UserId& user, ProductId product, std::int64_t quantity, WrittenThen done) {
  if (quantity == 0) return remove_then(user, product, std::move(done));
  put_line_then(user, product, quantity, false, std::move(done));
}

void BasketService::remove_then(const UserId& user, ProductId product, WrittenThen done) {
  auto result = std::make_shared<std::optional<Result<Written>>>();
  db_.write_then(
      [result, user, product](Tx& tx) { result->emplace(remove_line(tx, user, product)); },
      handing_on(result, std::move(done)));
}

PricedBasket BasketService::priced_without_coupon(std::vector<Line> lines) const {
  return price(std::move(lines), std::nullopt, clock_.now());
}

Result<PricedBasket> BasketService::add(const UserId& user, ProductId product, std::int64_t quantity) {
  return put_line(user, product, quantity, true);
}

Result<PricedBasket> BasketService::set(const UserId& user, ProductId product, std::int64_t quantity) {
  if (quantity == 0) return remove(user, product);
  return put_line(user, product, quantity, false);
}

void BasketService::merge(const UserId& user, const UserId& guest) {
  const auto now = to_rfc3339(clock_.now());
  db_.write([&](Tx& tx) {
    const auto lines = store::lines(tx, guest.value);
    const auto code = store::coupon_code(tx, guest.value);
    if (lines.empty() && !code) return;
    for (const auto& l : lines)
      if (l.available_stock > 0)  // none left: nothing to carry over
        store::add_quantity(tx, user.value, l.product_id, l.quantity, std::min(l.available_stock, kMaxLineQuantity), now);
    if (code && !store::coupon_code(tx, user.value)) store::set_coupon(tx, user.value, code, now);
    store::clear(tx, guest.value);
  });
}

Result<PricedBasket> BasketService::remove(const UserId& user, ProductId product) {
  return priced(db_.write([&](Tx& tx) { return remove_line(tx, user, product); }));
}

Result<PricedBasket> BasketService::apply_coupon(const UserId& user, const std::string& code) {
  auto terms = discount_.find_coupon(code);
  if (!terms) {
    if (terms.error().code != ErrorCode::not_found) return fail(terms.error());
    return fail(Error::invalid_field("code", "No coupon has this code."));
  }
  auto lines = db_.read([&](Tx& tx) { return store::lines(tx, user.value); });
  const bool eligible_line = terms->product_id && has_product(lines, *terms->product_id);
  if (auto why = discount::refusal(*terms, subtotal_of(lines), eligible_line, clock_.now()))
    return fail(Error::invalid_field("code", *why));
  const auto now = to_rfc3339(clock_.now());
  lines = db_.write([&](Tx& tx) {
    store::set_coupon(tx, user.value, terms->code, now);
    return store::lines(tx, user.value);
  });
  return price(std::move(lines), *terms, clock_.now());
}

PricedBasket BasketService::remove_coupon(const UserId& user) {
  const auto now = to_rfc3339(clock_.now());
  auto lines = db_.write([&](Tx& tx) {
    store::set_coupon(tx, user.value, std::nullopt, now);
    return store::lines(tx, user.value);
  });
  return price(std::move(lines), std::nullopt, clock_.now());
}

namespace {

// The checkout answered before for this key: the same order, or 422 for another request.
std::optional<Result<CheckoutAccepted>> replay(Tx& tx, const UserId& user, const std::string& key,
                                               const std::string& fingerprint) {
  if (key.empty()) return std::nullopt;
  auto& q = tx.statement("SELECT fingerprint, order_id FROM checkouts WHERE user_id = ?1 AND idempotency_key = ?2");
  q.bind(1, user.value).bind(2, key);
  if (!q.next()) return std::nullopt;
  const std::string stored_fingerprint = q.text(0), order_id = q.text(1);
  if (stored_fingerprint != fingerprint)
    return Result<CheckoutAccepted>(fail(Error::invalid_field(
        "Idempotency-Key", "was already used with a different request")));
  return Result<CheckoutAccepted>(CheckoutAccepted{OrderId{order_id}});
}

events::BasketCheckedOut checked_out(const PricedBasket& b, const Principal& buyer, const CheckoutRequest& r,
                                     const CardToken& token, const std::string& currency, const std::string& now) {
  events::BasketCheckedOut e;
  e.order_id = OrderId{crypto::new_uuid_v7()};
  e.user_id = buyer.id;
  e.buyer_email = buyer.email;
  e.buyer_name = buyer.name;
  for (const auto& l : b.lines)
    e.lines.push_back({l.product_id, l.name, l.unit_price, l.quantity, l.unit_price * l.quantity, l.image_url});
  e.subtotal = b.subtotal;
  if (b.coupon) e.coupon = events::CheckedOutCoupon{b.coupon->code, b.coupon->description, b.coupon->discount};
  e.discount = b.discount;
  e.total = b.total;
  e.currency = currency;
  e.shipping_address = r.address;
  e.delivery_note = r.delivery_note;
  e.payment_token = token.token;
  e.card_brand = token.brand;
  e.last4 = token.last4;
  e.checked_out_at = now;
  return e;
}

Error empty_basket() { return Error::invalid_field("items", "the basket is empty"); }

// 409 before any charge when a line wants more than the stock basket knows of, with every such line.
std::optional<Error> short_of_stock(const std::vector<Line>& lines) {
  auto short_lines = nlohmann::ordered_json::array();
  std::string names;
  for (const auto& l : lines) {
    if (l.quantity <= l.available_stock) continue;
    short_lines.push_back({{"productId", l.product_id.value}, {"name", l.name}, {"quantity", l.quantity},
                           {"availableStock", l.available_stock}});
    names += (names.empty() ? "" : "; ") + l.name + ": " + std::to_string(l.quantity) + " wanted, " +
             std::to_string(l.available_stock) + " available";
  }
  if (short_lines.empty()) return std::nullopt;
  auto error = Error::conflict("Not enough stock for " + names + ".");
  error.extensions = std::make_shared<const nlohmann::ordered_json>(nlohmann::ordered_json{{"lines", short_lines}});
  return error;
}

}  // namespace

Result<CheckoutAccepted> BasketService::checkout(const Principal& buyer, const CheckoutRequest& request,
                                                 const std::string& key, const std::string& correlation_id) {
  auto [lines, code, twin] = db_.read([&](Tx& tx) {
    // The replay check after the lines, in this order (a function's arguments are evaluated in any
    // order): a concurrent twin that checked out in between emptied the basket and recorded the key
    // in one commit, so lines found empty that way are always followed by the twin's answer.
    auto lines = store::lines(tx, buyer.id.value);
    auto code = store::coupon_code(tx, buyer.id.value);
    auto twin = replay(tx, buyer.id, key, request.fingerprint);
    return std::make_tuple(std::move(lines), std::move(code), std::move(twin));
  });
  if (twin) return *twin;
  if (lines.empty()) return fail(empty_basket());
  if (auto refused = short_of_stock(lines)) return fail(*refused);
  auto coupon = coupon_terms(code);
  if (!coupon) return fail(coupon.error());
  const auto& terms = *coupon;
  auto token = payments_.tokenize(request.card);  // the raw card goes no further than this
  if (!token) return fail(token.error());

  const auto now = clock_.now();
  return db_.write([&](Tx& tx) -> Result<CheckoutAccepted> {
    std::vector<Line> current;
    if (auto settled = settled_before(tx, buyer, request, key, current)) return std::move(*settled);
    const auto current_code = store::coupon_code(tx, buyer.id.value);
    const bool same_coupon = terms && current_code && terms->code == *current_code;
    return record_checkout(tx, std::move(current), same_coupon ? terms : std::nullopt, buyer, request, *token, key,
                           correlation_id, now);
  });
}

void BasketService::checkout_then(const Principal& buyer, CheckoutRequest request, std::string key,
                                  std::string correlation_id, CheckoutThen done) {
  auto token = payments_.tokenize(request.card);  // at once: checkout_without_waiting()
  request.card = {};                              // the raw card goes no further than this
  auto result = std::make_shared<std::optional<Result<CheckoutAccepted>>>();
  db_.write_then(
      [this, result, buyer, request = std::move(request), key = std::move(key),
       correlation_id = std::move(correlation_id), token = std::move(token), now = clock_.now()](Tx& tx) {
        result->reset();  // a batch may run its jobs again (Database::write)
        std::vector<Line> current;
        if (auto settled = settled_before(tx, buyer, request, key, current)) {
          result->emplace(std::move(*settled));
          return;
        }
        // A coupon's terms come from discount, which may wait: checkout() on a worker prices it.
        if (store::coupon_code(tx, buyer.id.value)) return;
        if (!token) {
          result->emplace(fail(token.error()));
          return;
        }
        result->emplace(
            record_checkout(tx, std::move(current), std::nullopt, buyer, request, *token, key, correlation_id, now));
      },
      [result, done = std::move(done)](std::exception_ptr error) {
        if (error) return done(error, std::nullopt);
        done(nullptr, std::move(*result));
      });
}

std::optional<Result<CheckoutAccepted>> BasketService::settled_before(Tx& tx, const Principal& buyer,
                                                                      const CheckoutRequest& request,
                                                                      const std::string& key,
                                                                      std::vector<Line>& current) const {
  if (auto earlier = replay(tx, buyer.id, key, request.fingerprint)) return earlier;  // a concurrent twin won
  current = store::lines(tx, buyer.id.value);
  if (current.empty()) return Result<CheckoutAccepted>(fail(empty_basket()));
  if (auto refused = short_of_stock(current)) return Result<CheckoutAccepted>(fail(*refused));
  return std::nullopt;
}

CheckoutAccepted BasketService::record_checkout(Tx& tx, std::vector<Line> lines,
                                                const std::optional<discount::CouponTerms>& terms,
                                                const Principal& buyer, const CheckoutRequest& request,
                                                const CardToken& token, const std::string& key,
                                                const std::string& correlation_id, TimePoint now) const {
  const auto priced = price(std::move(lines), terms, now);
  const auto event = checked_out(priced, buyer, request, token, currency_, to_rfc3339_ms(now));
  store::clear(tx, buyer.id.value);
  if (!key.empty())
    tx.statement("INSERT INTO checkouts(user_id, idempotency_key, fingerprint, order_id, created_at) "
                 "VALUES(?1, ?2, ?3, ?4, ?5)")
        .bind(1, buyer.id.value)
        .bind(2, key)
        .bind(3, request.fingerprint)
        .bind(4, event.order_id.value)
        .bind(5, event.checked_out_at)
        .run();
  outbox::enqueue(tx, new_event(std::string(event.kType), "basket", event, correlation_id, clock_,
                                 event.order_id.value));
  return CheckoutAccepted{event.order_id};
}

void BasketService::clear(const UserId& user) {
  db_.write([&](Tx& tx) { store::clear(tx, user.value); });
}

}  // namespace eshop::basket
