#pragma once
// A shopper speaking to a test server: basket, checkout, orders. For the saga's HTTP tests.
#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "support/eventually.hpp"

#include "support/test_server.hpp"

namespace eshop::test {

inline std::string checkout_body(const std::string& card = "4242424242424242", const std::string& note = "Leave at the door") {
  return nlohmann::json{{"shippingAddress",
                         {{"fullName", "Ann Lee"}, {"street", "1 Main St"}, {"city", "Springfield"},
                          {"postalCode", "12345"}, {"country", "US"}}},
                        {"deliveryNote", note},
                        {"payment", {{"cardNumber", card}, {"cardHolder", "Ann Lee"}, {"expiry", "12/30"}, {"cvv", "123"}}}}
      .dump();
}

struct Shopper {
  const TestServer& server;
  std::string token;
  http::Client c;
  Shopper(const TestServer& s, const std::string& email) : server(s), token(s.customer_token(email)), c(s.client()) {}

  void add(std::int64_t product, std::int64_t quantity) {
    const auto res = try_add(product, quantity);
    INFO(res.body);
    REQUIRE(res.status == 200);
  }
  // try_add() and checkout() assert nothing, so other threads may call them: Catch's assertions
  // and INFO are for the test's own thread only.
  http::Response try_add(std::int64_t product, std::int64_t quantity) {
    return c.post("/api/v1/basket/items", nlohmann::json{{"productId", product}, {"quantity", quantity}}.dump(), token);
  }
  http::Response checkout(const std::string& body = checkout_body(), const std::string& key = "") {
    http::Request r;
    r.method = "POST";
    r.target = "/api/v1/basket/checkout";
    r.headers.add("Content-Type", "application/json");
    r.headers.add("Authorization", "Bearer " + token);
    if (!key.empty()) r.headers.add("Idempotency-Key", key);
    r.body = body;
    return c.send(r);
  }
  // Checks out and returns the order id.
  std::string place(const std::string& card = "4242424242424242") {
    const auto res = checkout(checkout_body(card));
    INFO(res.body);
    REQUIRE(res.status == 202);
    return body_of(res).at("orderId").get<std::string>();
  }
  http::Response order(const std::string& id) { return c.get("/api/v1/orders/" + id, token); }
  // The order once it reached `status` (FAILs after 10 s).
  nlohmann::json await(const std::string& id, const std::string& status) {
    nlohmann::json last;
    const bool reached = eventually([&] {
      const auto res = order(id);
      if (res.status != 200) return false;
      last = body_of(res);
      return last.at("status") == status;
    });
    INFO("order " << id << " is " << last.dump());
    REQUIRE(reached);
    return last;
  }
};

inline std::vector<std::string> timeline_of(const nlohmann::json& order) {
  std::vector<std::string> out;
  for (const auto& t : order.at("timeline")) out.push_back(t.at("event"));
  return out;
}

inline std::int64_t stock_of(const TestServer& server, std::int64_t product) {
  auto c = server.client();
  return body_of(c.get("/api/v1/catalog/products/" + std::to_string(product))).at("availableStock");
}

}  // namespace eshop::test
