// The gateway patterns: aggregation (a product page from catalog and discount in one call), a
// backend for frontends (the catalog list for a phone), and the seam metrics that count every call
// across a module seam; in the monolith and with catalog and discount in another process.
#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

std::vector<std::string> codes_of(const nlohmann::json& coupons) {
  std::vector<std::string> out;
  for (const auto& c : coupons) out.push_back(c.at("code"));
  return out;
}

// The value of one exposition line ("name{labels} value"), or -1 when it is not there.
double metric(const std::string& text, const std::string& series) {
  const auto at = text.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 1));
}

void check_product_page(http::Client& c) {
  const auto res = c.get("/api/v1/shop/products/1");
  REQUIRE(res.status == 200);
  const auto page = body_of(res);
  CHECK(page.at("product") == body_of(c.get("/api/v1/catalog/products/1")));
  // Valid now and for product 1 or any product; the expired SUMMER2020 is not offered.
  CHECK(codes_of(page.at("coupons")) == std::vector<std::string>{"SAVE20", "TRAIL15", "WELCOME10"});
  CHECK(page.at("coupons")[1].at("productId") == 1);
  CHECK_FALSE(page.contains("couponsUnavailable"));
  // Product 2 has no coupon of its own: only the store-wide ones.
  CHECK(codes_of(body_of(c.get("/api/v1/shop/products/2")).at("coupons")) ==
        std::vector<std::string>{"SAVE20", "WELCOME10"});
  CHECK(c.get("/api/v1/shop/products/9999").status == 404);
  CHECK(c.get("/api/v1/shop/products/x").status == 422);
}

void check_mobile_list(http::Client& c) {
  const auto res = c.get("/api/v1/mobile/catalog/products?pageSize=3&sort=price");
  REQUIRE(res.status == 200);
  const auto page = body_of(res);
  const auto full = body_of(c.get("/api/v1/catalog/products?pageSize=3&sort=price"));
  REQUIRE(page.at("items").size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& p = full.at("items")[i];
    CHECK(page.at("items")[i] == nlohmann::json{{"id", p.at("id")},
                                                {"name", p.at("name")},
                                                {"price", p.at("price")},
                                                {"currency", "USD"},
                                                {"image", p.at("imageUrl")},
                                                {"inStock", p.at("availableStock").get<int>() > 0}});
  }
  CHECK(page.at("page") == 1);
  CHECK(page.at("totalPages") == 22);  // 64 demo products, 3 a page
  CHECK(page.size() == 3);
  CHECK(c.get("/api/v1/mobile/catalog/products?pageSize=0").status == 422);  // catalog's own answer
}

}  // namespace

TEST_CASE("a product page in one call, and the catalog list for a phone, in the monolith", "[aggregation][http]") {
  test::TestServer server;
  auto c = server.client();
  check_product_page(c);
  check_mobile_list(c);
  const auto metrics = c.get("/metrics").body;
  // Sub-requests to catalog: products 1, 2 and 9999 (a 404 is an answer, not a failure) and the
  // list twice (its 422 too); to discount: products 1 and 2 (9999 stopped at catalog).
  CHECK(metric(metrics, R"(eshop_seam_calls_total{callee="catalog",caller="gateway",method="GET",mode="local",outcome="ok"})") == 5);
  CHECK(metric(metrics, R"(eshop_seam_calls_total{callee="discount",caller="gateway",method="GET",mode="local",outcome="ok"})") == 2);
  // The outer requests are labelled with their own routes.
  CHECK(metric(metrics, R"(eshop_http_requests_total{method="GET",module="gateway",route="/api/v1/shop/products/{id}",status="200"})") == 2);
}

TEST_CASE("every call across a module seam is counted with caller, callee, method, mode and outcome",
          "[aggregation][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto token = server.customer_token("seams@example.com");  // no seam: register and login are identity's own
  REQUIRE(c.post("/api/v1/basket/items", R"({"productId":1,"quantity":1})", token).status == 200);
  REQUIRE(c.post("/api/v1/basket/items", R"({"productId":9999,"quantity":1})", token).status == 404);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"WELCOME10"})", token).status == 200);
  REQUIRE(c.put("/api/v1/basket/coupon", R"({"code":"NOPE"})", token).status == 422);  // unknown coupon
  REQUIRE(c.get("/api/v1/basket", "not-a-token").status == 401);
  const auto metrics = c.get("/metrics").body;
  auto seam = [&](const char* callee, const char* caller, const char* method, const char* outcome) {
    return metric(metrics, std::string("eshop_seam_calls_total{callee=\"") + callee + "\",caller=\"" + caller +
                               "\",method=\"" + method + "\",mode=\"local\",outcome=\"" + outcome + "\"}");
  };
  CHECK(seam("catalog", "basket", "find_product", "ok") == 1);
  CHECK(seam("catalog", "basket", "find_product", "error") == 1);  // 9999: not_found
  // Applying a coupon asks for its terms once (the answer is priced with them).
  CHECK(seam("discount", "basket", "find_coupon", "ok") == 1);
  CHECK(seam("discount", "basket", "find_coupon", "error") == 1);
  // Every request with a token: the four basket calls and the forged one.
  CHECK(seam("identity", "gateway", "authenticate", "ok") == 5);
  CHECK_THAT(metrics, Catch::Contains(
      R"(eshop_seam_call_duration_seconds_count{callee="catalog",caller="basket",method="find_product",mode="local",outcome="ok"} 1)"));
}

TEST_CASE("the product page and the phone's list when catalog and discount run in another process",
          "[aggregation][http]") {
  test::TempDir catalog_dir, shop_dir;
  const auto port = test::free_port();
  test::Child catalog({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(port), "--data-dir",
                       catalog_dir.path().string(), "--modules", "catalog,discount"});
  REQUIRE_FALSE(catalog.wait_for_line("\"msg\":\"listening\"").empty());
  auto config = test::test_config(shop_dir.path());
  config.modules = {"identity", "basket", "ordering"};
  const auto url = "http://127.0.0.1:" + std::to_string(port);
  config.remotes = {{"catalog", url}, {"discount", url}};
  test::TestServer shop(config);
  auto c = shop.client();
  check_product_page(c);
  check_mobile_list(c);
  const auto metrics = c.get("/metrics").body;
  CHECK(metric(metrics, R"(eshop_seam_calls_total{callee="catalog",caller="gateway",method="GET",mode="remote",outcome="ok"})") >= 5);
  CHECK(metric(metrics, R"(eshop_seam_calls_total{callee="discount",caller="gateway",method="GET",mode="remote",outcome="ok"})") == 2);
  // The proxied requests are labelled with the module and route that answered them.
  CHECK(metric(metrics, R"(eshop_http_requests_total{method="GET",module="catalog",route="/api/v1/catalog/products/{id}",status="200"})") == 1);

  // Discount down: the product page still comes, without its coupons.
  catalog.kill_hard();
  test::Child catalog_only({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(port), "--data-dir",
                            catalog_dir.path().string(), "--modules", "catalog"});
  REQUIRE_FALSE(catalog_only.wait_for_line("\"msg\":\"listening\"").empty());
  const auto page = body_of(c.get("/api/v1/shop/products/1"));
  CHECK(page.at("product").at("id") == 1);
  CHECK(page.at("coupons").is_null());
  CHECK(page.at("couponsUnavailable") == true);
}
