// Several instances of the shop on one PostgreSQL database and one RabbitMQ, behind HAProxy
// (ESHOP_TEST_TOPOLOGY=cluster; ctest's "http/cluster" entry): what each guarantee of running
// more than one instance looks like from outside, with exact counts.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "support/shop.hpp"
#include "support/sqlite_count.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using namespace eshop::test;

namespace {

http::Client direct(const TestServer& server, std::size_t instance) {
  return http::Client("127.0.0.1", server.instance_ports().at(instance));
}

std::int64_t price_on(const TestServer& server, std::size_t instance, int product) {
  auto c = direct(server, instance);
  const auto res = c.get("/api/v1/catalog/products/" + std::to_string(product));
  return res.status == 200 ? body_of(res).at("price").get<std::int64_t>() : -1;
}

// Shoppers checking out on threads through the balancer until stopped; every answer counted.
struct Load {
  std::atomic<bool> done{false};
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::string> ids;  // of the accepted, read after stop()
  std::vector<std::future<std::vector<std::string>>> threads;
  Load(std::vector<std::unique_ptr<Shopper>>& shoppers, int product) {
    for (auto& s : shoppers)
      threads.push_back(std::async(std::launch::async, [&, shopper = s.get()] {
        std::vector<std::string> mine;
        while (!done) {
          const auto added = shopper->try_add(product, 1);
          if (added.status != 200) {
            ++refused;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
          }
          const auto res = shopper->checkout();
          if (res.status == 202) {
            ++accepted;
            mine.push_back(nlohmann::json::parse(res.body).at("orderId").get<std::string>());
          } else {
            ++refused;
          }
        }
        return mine;
      }));
  }
  void stop() {
    done = true;
    for (auto& t : threads) {
      auto mine = t.get();
      ids.insert(ids.end(), mine.begin(), mine.end());
    }
    threads.clear();
  }
  ~Load() {
    if (!threads.empty()) stop();
  }
};

}  // namespace

TEST_CASE("a price changed through one instance is served by every other within a second", "[.cluster][http]") {
  TestServer server;
  REQUIRE(server.instance_ports().size() >= 2);
  const auto admin = server.admin_token();
  for (int round = 0; round < 5; ++round) {
    const int price = 20000 + round;
    const auto writer = static_cast<std::size_t>(round) % server.instance_ports().size();
    auto c = direct(server, writer);
    REQUIRE(c.put("/api/v1/catalog/products/3", nlohmann::json{{"price", price}}.dump(), admin).status == 200);
    const auto changed = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < server.instance_ports().size(); ++i) {
      INFO("instance " << i << ", written through " << writer);
      CHECK(eventually([&] { return price_on(server, i, 3) == price; }, std::chrono::seconds(1)));
    }
    CHECK(std::chrono::steady_clock::now() - changed < std::chrono::seconds(1));
  }
}

TEST_CASE("a session opened on one instance works on the others, and a logout ends it on all", "[.cluster][http]") {
  TestServer server;
  const auto token = server.customer_token("ann@example.com");
  for (std::size_t i = 0; i < server.instance_ports().size(); ++i) {
    auto c = direct(server, i);
    CHECK(c.get("/api/v1/identity/me", token).status == 200);
  }
  auto first = direct(server, 0);
  REQUIRE(first.post("/api/v1/identity/logout", "", token).status == 204);
  for (std::size_t i = 0; i < server.instance_ports().size(); ++i) {
    INFO("instance " << i);
    CHECK(eventually([&] { return direct(server, i).get("/api/v1/identity/me", token).status == 401; },
                     std::chrono::seconds(1)));
  }
}

TEST_CASE("an instance killed with -9 under checkouts: every accepted order completes, once, and it rejoins",
          "[.cluster][http]") {
  TestServer server;
  REQUIRE(server.instance_ports().size() >= 3);
  {
    auto c = server.client();
    REQUIRE(c.put("/api/v1/catalog/products/4", R"({"availableStock":100000})", server.admin_token()).status == 200);
  }
  const std::int64_t stock_before = 100000;
  std::vector<std::unique_ptr<Shopper>> shoppers;
  for (int i = 0; i < 6; ++i) shoppers.push_back(std::make_unique<Shopper>(server, "buyer" + std::to_string(i) + "@example.com"));
  {
    Load load(shoppers, 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // The first instance started first: it holds the outbox relays' leases, and takes its share of
    // the queues' events. Its in-flight events go back to the queues; a standby relay takes over.
    server.kill_instance(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    load.stop();
    INFO("accepted " << load.accepted << ", refused " << load.refused);
    REQUIRE(load.accepted > 10);
    // Refusals are only the requests the dead instance held when it died (HAProxy retries
    // refused connections itself); every answer the client got is final.
    CHECK(load.refused <= 6);
    // Every order the shop recorded completes (those whose answer the kill swallowed too), each
    // charged once, and the stock went down by exactly the units ordered: no event was lost or
    // applied twice across the instances.
    // (Checkout answers 202 before ordering records the order: the count catches up.)
    const auto recorded = [&] { return server.count("ordering", "SELECT COUNT(*) FROM orders"); };
    const auto accepted = static_cast<std::int64_t>(load.ids.size());
    const bool all_completed = eventually(
        [&] {
          return recorded() >= accepted &&
                 server.count("ordering", "SELECT COUNT(*) FROM orders WHERE status <> 'completed'") == 0;
        },
        std::chrono::seconds(30));
    CHECK(recorded() <= accepted + 6);
    INFO("not completed: " << server.count("ordering", "SELECT COUNT(*) FROM orders WHERE status <> 'completed'"));
    REQUIRE(all_completed);
    for (const auto& id : load.ids) {
      auto c = server.client();
      const auto res = c.get("/api/v1/orders/" + id, server.admin_token());
      REQUIRE(res.status == 200);
      CHECK(body_of(res).at("status") == "completed");
    }
    const auto units = server.count("ordering", "SELECT COALESCE(SUM(item_count), 0) FROM orders");
    CHECK(units == recorded());  // one unit per order
    CHECK(server.count("catalog", "SELECT available_stock FROM products WHERE id = 4") == stock_before - units);
    CHECK(eventually([&] { return stock_of(server, 4) == stock_before - units; }, std::chrono::seconds(2)));
    CHECK(sqlite_count(server.data_dir() / "payments.db", "SELECT COUNT(*) FROM charges WHERE approved = 1") ==
          recorded());
  }
  server.restart_instance(0);
  CHECK(eventually([&] { return direct(server, 0).get("/health/ready").status == 200; }, std::chrono::seconds(10)));
  CHECK(price_on(server, 0, 4) > 0);
}

TEST_CASE("PostgreSQL restarted under load: 503 problems while it is down, the shop recovers by itself",
          "[.cluster][http]") {
  // A server of this test's own: the shared one serves the other tests meanwhile.
  TempDir pg;
  const auto script = std::string(ESHOP_SOURCE_DIR) + "/scripts/postgres";
  REQUIRE(std::system((script + " start " + pg.path().string() + " > /dev/null").c_str()) == 0);
  struct Stop {
    std::string command;
    ~Stop() { (void)std::system(command.c_str()); }
  } stop_pg{script + " stop " + pg.path().string() + " --remove > /dev/null 2>&1"};
  const char* previous = std::getenv("ESHOP_TEST_POSTGRES_URL_FILE");
  const std::string restore = previous ? previous : "";
  setenv("ESHOP_TEST_POSTGRES_URL_FILE", (pg.path() / "url").c_str(), 1);
  struct Restore {
    std::string value;
    ~Restore() { setenv("ESHOP_TEST_POSTGRES_URL_FILE", value.c_str(), 1); }
  } restore_env{restore};

  TestServer server;
  Shopper ann(server, "ann@example.com");
  REQUIRE(std::system((script + " stop " + pg.path().string() + " > /dev/null").c_str()) == 0);
  // While it is down: writes answer 503 with a problem document, and nothing hangs.
  auto c = server.client();
  std::vector<http::Response> down;
  for (int i = 0; i < 5; ++i) down.push_back(ann.try_add(1, 1));
  REQUIRE(std::system((script + " restart " + pg.path().string() + " > /dev/null").c_str()) == 0);
  for (const auto& r : down) {
    INFO(r.body);
    CHECK(r.status == 503);
    CHECK(r.headers.get("Content-Type") == "application/problem+json");  // the shop's, or the balancer's own
  }
  // Back: the same requests succeed without restarting anything. (A pooled connection broken by
  // the restart fails one request, 503, before it is replaced: the checkout is retried as a
  // client would, on the 503's Retry-After.)
  CHECK(eventually([&] { return ann.try_add(1, 1).status == 200; }, std::chrono::seconds(15)));
  std::string id;
  REQUIRE(eventually(
      [&] {
        const auto res = ann.checkout();
        if (res.status == 202) id = nlohmann::json::parse(res.body).at("orderId").get<std::string>();
        return res.status == 202;
      },
      std::chrono::seconds(15)));
  ann.await(id, "completed");
}
