#include "handlers.hpp"

#include <algorithm>
#include <cctype>
#include <exception>

#include <eshop/crypto.hpp>

#include <charconv>

#include <eshop/json_body.hpp>
#include <eshop/json_writer.hpp>
#include <eshop/problem.hpp>

namespace eshop::basket {

// Written by hand rather than through an nlohmann tree: this is the answer to every basket change,
// and the tree cost a third of a basket write's CPU (see eshop/json_writer.hpp).
std::string basket_json(const PricedBasket& b, const std::string& currency) {
  std::string out;
  out.reserve(160 + 256 * b.lines.size());
  out += "{\"items\":[";
  for (const auto& l : b.lines) {
    json::separate(out);
    out += '{';
    json::append_member(out, "productId", l.product_id.value);
    json::append_member(out, "name", l.name);
    json::append_member(out, "unitPrice", l.unit_price.in_cents());
    json::append_member(out, "quantity", l.quantity);
    json::append_member(out, "lineTotal", (l.unit_price * l.quantity).in_cents());
    json::append_member(out, "availableStock", l.available_stock);
    json::append_member_or_null(out, "imageUrl", l.image_url);
    out += '}';
  }
  out += ']';
  json::append_member(out, "itemCount", b.item_count);
  json::append_member(out, "subtotal", b.subtotal.in_cents());
  json::separate(out);
  json::append_key(out, "coupon");
  if (b.coupon) {
    out += '{';
    json::append_member(out, "code", b.coupon->code);
    json::append_member(out, "description", b.coupon->description);
    json::append_member(out, "discount", b.coupon->discount.in_cents());
    out += '}';
  } else {
    out += "null";
  }
  json::append_member(out, "discount", b.discount.in_cents());
  json::append_member(out, "total", b.total.in_cents());
  json::append_member(out, "currency", currency);
  out += '}';
  return out;
}

namespace {

http::Response no_such_product() { return http::problem(Error::not_found("No product has this id.")); }

// A guest's basket is found by its token (X-Basket-Token, from POST /api/v1/basket/guest), kept only
// as a hash: "guest:<32 hex>" in the place of a user id, which is a UUID and never looks like it.
constexpr std::string_view kBasketTokenHeader = "X-Basket-Token";

std::optional<UserId> guest_of(const http::Request& req) {
  const auto token = req.header(kBasketTokenHeader);
  if (token.size() < 32 || token.size() > 128) return std::nullopt;
  if (!std::all_of(token.begin(), token.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }))
    return std::nullopt;
  return UserId{"guest:" + crypto::sha256_hex(token).substr(0, 32)};
}

class Handlers final {
 public:
  Handlers(BasketService& service, std::string currency) : service_(service), currency_(std::move(currency)) {}

  http::Response ok(const PricedBasket& b) const { return http::Response::json(200, basket_json(b, currency_)); }
  http::Response ok(const Result<PricedBasket>& b) const { return b ? ok(*b) : http::problem(b.error()); }

  // Whose basket a request is about: the user's (a guest basket sent along is merged into it
  // first: logging in or registering carries the guest's basket over), or the guest's.
  Result<UserId> owner(const http::Request& req) const {
    const auto guest = guest_of(req);
    if (req.user) {
      if (guest) service_.merge(req.user->id, *guest);
      return req.user->id;
    }
    if (guest) return *guest;
    if (!req.header(kBasketTokenHeader).empty())
      return fail(Error::make(ErrorCode::unauthorized, "The X-Basket-Token is not a basket token (POST /api/v1/basket/guest gives one)."));
    return fail(Error::make(ErrorCode::unauthorized,
                            "Log in, or send the X-Basket-Token of a guest basket (POST /api/v1/basket/guest)."));
  }

  http::Response guest(http::Request&) const {
    return http::Response::json(201, nlohmann::ordered_json{{"basketToken", crypto::random_token(32)}});
  }

  http::Response get(http::Request& req) const {
    const auto who = owner(req);
    return who ? ok(service_.get(*who)) : http::problem(who.error());
  }

  // On an I/O thread (see http::Runs) a line's change is answered later: its write joins the
  // group commit with no thread waiting for it, and the answer is written once it is on disk.
  // What could wait goes to a worker instead, and is answered there as always: a guest's basket to
  // merge first, a catalog or a database that is not answered from memory here.
  bool answers_later(const http::Request& req) const {
    return service_.writes_without_waiting() && !(req.user && guest_of(req));
  }

  // Starts a line's change (`start(done)`) and answers when it is written: at once on the I/O thread,
  // or, when the basket holds a coupon (whose terms discount gives), on a worker.
  template <class Start>
  http::Response later(http::Request& req, Start start) const {
    auto answer = http::defer(req);
    start([this, answer](std::exception_ptr error, Result<BasketService::Written> written) {
      if (error) return answer->respond([error]() -> http::Response { std::rethrow_exception(error); });
      if (!written) return answer->respond([e = std::move(written.error())] { return http::problem(e); });
      if (written->coupon_code)
        return answer->offload([this, w = std::move(*written)]() mutable { return ok(service_.priced(std::move(w))); });
      answer->respond([this, lines = std::move(written->lines)]() mutable {
        return ok(service_.priced_without_coupon(std::move(lines)));
      });
    });
    return http::Response::deferred();
  }

  http::Response add(http::Request& req) const {
    if (req.deferral && !answers_later(req)) return http::blocking(req, [this, &req] { return add(req); });
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    http::FieldReader in(*body);
    const auto product = in.integer("productId", true);
    const auto quantity = in.integer("quantity", false).value_or(1);
    if (product && *product < 1) in.error("productId", "must be a product id, 1 or more");
    if (in.ok() && quantity < 1) in.error("quantity", "must be 1 or more");
    if (!in.ok()) return http::problem(in.to_error());
    const auto who = owner(req);
    if (!who) return http::problem(who.error());
    if (req.deferral)
      return later(req, [&](auto done) { service_.add_then(*who, ProductId{*product}, quantity, std::move(done)); });
    return ok(service_.add(*who, ProductId{*product}, quantity));
  }

  http::Response set(http::Request& req) const {
    if (req.deferral && !answers_later(req)) return http::blocking(req, [this, &req] { return set(req); });
    const auto id = req.id_param("productId");
    if (!id) return no_such_product();
    const ProductId product{*id};
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    http::FieldReader in(*body);
    const auto quantity = in.integer("quantity", true);
    if (quantity && *quantity < 0) in.error("quantity", "must be 0 or more");
    if (!in.ok()) return http::problem(in.to_error());
    const auto who = owner(req);
    if (!who) return http::problem(who.error());
    if (req.deferral)
      return later(req, [&](auto done) { service_.set_then(*who, product, *quantity, std::move(done)); });
    return ok(service_.set(*who, product, *quantity));
  }

  http::Response remove(http::Request& req) const {
    if (req.deferral && !answers_later(req)) return http::blocking(req, [this, &req] { return remove(req); });
    const auto id = req.id_param("productId");
    if (!id) return no_such_product();
    const ProductId product{*id};
    const auto who = owner(req);
    if (!who) return http::problem(who.error());
    if (req.deferral) return later(req, [&](auto done) { service_.remove_then(*who, product, std::move(done)); });
    return ok(service_.remove(*who, product));
  }

  http::Response apply_coupon(http::Request& req) const {
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    http::FieldReader in(*body);
    const auto code = in.string("code", true);
    if (!in.ok()) return http::problem(in.to_error());
    const auto who = owner(req);
    if (!who) return http::problem(who.error());
    return ok(service_.apply_coupon(*who, *code));
  }

  http::Response remove_coupon(http::Request& req) const {
    const auto who = owner(req);
    return who ? ok(service_.remove_coupon(*who)) : http::problem(who.error());
  }

  // On an I/O thread a checkout is answered later, once written, like a line's change; a guest's
  // basket to merge first, a basket with a coupon, or a part that may wait goes to a worker.
  http::Response checkout(http::Request& req) const {
    if (req.deferral && (!service_.checkout_without_waiting() || guest_of(req)))
      return http::blocking(req, [this, &req] { return checkout(req); });
    const std::string key(req.header("Idempotency-Key"));
    if (key.size() > 255 || key.find_first_of("\r\n") != std::string::npos)
      return http::problem(Error::invalid_field("Idempotency-Key", "must be at most 255 characters"));
    auto body = http::json_object_body(req);
    if (!body) return http::problem(body.error());
    auto request = parse_checkout(*body, std::chrono::system_clock::now());
    if (!request) return http::problem(request.error());
    if (req.deferral) {
      auto answer = http::defer(req);
      service_.checkout_then(
          *req.user, std::move(*request), key, req.request_id,
          [this, answer, &req](std::exception_ptr error, std::optional<Result<CheckoutAccepted>> accepted) {
            if (error) return answer->respond([error]() -> http::Response { std::rethrow_exception(error); });
            if (!accepted) return answer->offload([this, &req] { return checkout(req); });
            answer->respond([accepted = std::move(*accepted)] { return submitted(accepted); });
          });
      return http::Response::deferred();
    }
    if (guest_of(req)) service_.merge(req.user->id, *guest_of(req));  // what the guest chose is bought too
    return submitted(service_.checkout(*req.user, *request, key, req.request_id));
  }

  static http::Response submitted(const Result<CheckoutAccepted>& accepted) {
    if (!accepted) return http::problem(accepted.error());
    auto res = http::Response::json(
        202, nlohmann::ordered_json{{"orderId", accepted->order_id.value}, {"status", "submitted"}});
    res.headers.add("Location", "/api/v1/orders/" + accepted->order_id.value);
    return res;
  }

  http::Response clear(http::Request& req) const {
    const auto who = owner(req);
    if (!who) return http::problem(who.error());
    service_.clear(*who);
    return http::Response::no_content();
  }

 private:
  BasketService& service_;
  std::string currency_;
};

}  // namespace

void register_handlers(http::Router& router, BasketService& service, std::string currency) {
  auto h = std::make_shared<Handlers>(service, std::move(currency));
  auto r = router.scope("basket");
  using http::Access;
  // A guest (no bearer token, an X-Basket-Token) has a basket too; checkout needs an account.
  constexpr auto either = Access::user_or_guest;
  r.post("/api/v1/basket/guest", Access::anyone, [h](http::Request& q) { return h->guest(q); });
  r.get("/api/v1/basket", either, [h](http::Request& q) { return h->get(q); });
  r.del("/api/v1/basket", either, [h](http::Request& q) { return h->clear(q); });
  // A line's change runs on the I/O thread, which answers it once it is written (see later()).
  r.post("/api/v1/basket/items", either, [h](http::Request& q) { return h->add(q); });
  r.on_io_thread();
  r.put("/api/v1/basket/items/{productId}", either, [h](http::Request& q) { return h->set(q); });
  r.on_io_thread();
  r.del("/api/v1/basket/items/{productId}", either, [h](http::Request& q) { return h->remove(q); });
  r.on_io_thread();
  r.put("/api/v1/basket/coupon", either, [h](http::Request& q) { return h->apply_coupon(q); });
  r.del("/api/v1/basket/coupon", either, [h](http::Request& q) { return h->remove_coupon(q); });
  // So does a checkout (see checkout()).
  r.post("/api/v1/basket/checkout", Access::user, [h](http::Request& q) { return h->checkout(q); });
  r.on_io_thread();
}

}  // namespace eshop::basket
