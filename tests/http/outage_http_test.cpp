// The broker goes away under writes: the API keeps accepting them (their events wait in the
// outboxes), readiness says the bus is down, and when the broker is back every event arrives,
// applied once. This test runs a broker of its own, since it stops it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "support/eventually.hpp"
#include "support/shop.hpp"

using namespace eshop;
using namespace eshop::test;

namespace {

class Broker final {
 public:
  Broker() { run("start"); }
  ~Broker() { run("stop"); }
  void stop() { run("stop"); }
  void restart() { run("restart"); }
  std::string url() const {
    std::ifstream in(dir_.path() / "url");
    std::string url;
    std::getline(in, url);
    return url;
  }

 private:
  void run(const char* command) {
    const std::string cmd = std::string(ESHOP_RABBITMQ_SCRIPT) + " " + command + " " + dir_.path().string() + " > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  TempDir dir_;
};

}  // namespace

TEST_CASE("with the broker down writes go on, and every event arrives once when it is back", "[amqp][outage][http]") {
  Broker broker;
  TempDir data;
  auto config = test_config(data.path());
  config.bus = broker.url();
  config.bus_namespace = test_namespace();
  TestServer server(config);
  Shopper ann(server, "ann@example.com");
  ann.add(1, 1);
  const auto admin = server.admin_token();
  auto c = server.client();

  broker.stop();
  for (const int price : {11000, 10500, 10100, 9999})
    REQUIRE(c.put("/api/v1/catalog/products/1", nlohmann::json{{"price", price}}.dump(), admin).status == 200);
  CHECK(test::body_of(c.get("/api/v1/catalog/products/1")).at("price") == 9999);  // the write is there
  const auto ready = c.get("/health/ready");
  CHECK(ready.status == 503);
  CHECK(test::body_of(ready).at("checks").at("eventBus").at("status") == "down");
  CHECK(test::body_of(c.get("/api/v1/basket", ann.token)).at("items")[0].at("unitPrice") == 12999);

  broker.restart();
  CHECK(eventually([&] {
    return test::body_of(c.get("/api/v1/basket", ann.token)).at("items")[0].at("unitPrice") == 9999;
  }, std::chrono::seconds(40)));
  CHECK(eventually([&] { return c.get("/health/ready").status == 200; }, std::chrono::seconds(20)));
  const auto metrics = c.get("/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_outbox_backlog{module="catalog"} 0)"));
  CHECK_THAT(metrics, Catch::Contains(R"(eshop_events_total{module="basket",outcome="handled",type="catalog.product_price_changed.v1"} 4)"));
}
