// Health, metrics, the OpenAPI document, the topology, and data surviving a restart.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "support/eventually.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {
// This process's threads (the server runs in it): each one's id and name, as top -H and perf show them.
std::vector<std::pair<id_t, std::string>> threads_of_this_process() {
  std::vector<std::pair<id_t, std::string>> threads;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    threads.emplace_back(static_cast<id_t>(std::stoi(task.path().filename().string())), name);
  }
  return threads;
}
}  // namespace

TEST_CASE("health: live, and ready with each module's database and the bus", "[operations][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto live = c.get("/health/live");
  CHECK(live.status == 200);
  CHECK(body_of(live) == nlohmann::json::parse(R"({"status":"live"})"));
  const auto ready = c.get("/health/ready");
  CHECK(ready.status == 200);
  CHECK(body_of(ready) == nlohmann::json::parse(R"({"status":"ready","checks":{
    "identity":{"status":"up","detail":"database reachable"},
    "catalog":{"status":"up","detail":"database reachable"},
    "discount":{"status":"up","detail":"database reachable"},
    "basket":{"status":"up","detail":"database reachable"},
    "ordering":{"status":"up","detail":"database reachable"},
    "eventBus":{"status":"up","detail":"inproc"}}})"));
}

TEST_CASE("metrics count requests by module, route, method and status", "[operations][http]") {
  test::TestServer server;
  auto c = server.client();
  c.get("/api/v1/catalog/products/1");
  c.get("/api/v1/catalog/products/1");
  c.get("/api/v1/catalog/products/999");
  const auto res = c.get("/metrics");
  CHECK(res.status == 200);
  CHECK(res.headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(res.body, Catch::Contains(R"(eshop_http_requests_total{method="GET",module="catalog",route="/api/v1/catalog/products/{id}",status="200"} 2)"));
  CHECK_THAT(res.body, Catch::Contains(R"(eshop_http_requests_total{method="GET",module="catalog",route="/api/v1/catalog/products/{id}",status="404"} 1)"));
  CHECK_THAT(res.body, Catch::Contains(R"(eshop_http_request_duration_seconds_count{method="GET",module="catalog",route="/api/v1/catalog/products/{id}",status="200"} 2)"));
}

TEST_CASE("the OpenAPI document is served and lists every registered route", "[operations][http]") {
  test::TestServer server;
  auto c = server.client();
  const auto res = c.get("/openapi.json");
  REQUIRE(res.status == 200);
  const auto doc = body_of(res);
  CHECK(doc.at("openapi") == "3.1.0");
  std::set<std::string> missing;
  for (const auto& route : server.app().router().routes()) {
    std::string method = route->method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(ch));
    const auto& paths = doc.at("paths");
    if (!paths.contains(route->pattern) || !paths.at(route->pattern).contains(method))
      missing.insert(route->method + " " + route->pattern);
  }
  CHECK(missing.empty());
  INFO("documented but not served");
  std::set<std::string> extra;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) {
      std::string upper = method;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(ch));
      bool served = false;
      for (const auto& route : server.app().router().routes())
        served = served || (route->pattern == path && route->method == upper);
      if (!served && method != "parameters") extra.insert(upper + " " + path);
    }
  CHECK(extra.empty());
}

TEST_CASE("the topology is admin-only and shows where modules run", "[operations][http]") {
  test::TestServer server;
  auto c = server.client();
  CHECK(c.get("/api/v1/admin/topology").status == 401);
  CHECK(c.get("/api/v1/admin/topology", server.customer_token("c@example.com")).status == 403);
  const auto res = c.get("/api/v1/admin/topology", server.admin_token());
  REQUIRE(res.status == 200);
  auto body = body_of(res);
  CHECK(body.at("version") == "eshop 0.1.0");
  CHECK(body.at("instance").get<std::string>().size() == 36);  // this run's UUID
  body.erase("instance");
  CHECK(body == nlohmann::json::parse(R"({"version":"eshop 0.1.0","lastMove":null,
    "modules":[{"name":"identity","location":"local","movable":false},
    {"name":"catalog","location":"local","movable":false},{"name":"discount","location":"local","movable":false},
    {"name":"basket","location":"local","movable":true},{"name":"ordering","location":"local","movable":true}],
    "eventBus":{"transport":"inproc","namespace":"eshop","subscriptions":[
      {"subscriber":"ordering","eventType":"basket.checked_out.v1"},
      {"subscriber":"basket","eventType":"basket.restore_requested.v1"},
      {"subscriber":"basket","eventType":"catalog.product_deleted.v1"},
      {"subscriber":"basket","eventType":"catalog.product_price_changed.v1"},
      {"subscriber":"basket","eventType":"catalog.product_updated.v1"},
      {"subscriber":"catalog","eventType":"catalog.stock_release_requested.v1"},
      {"subscriber":"ordering","eventType":"catalog.stock_released.v1"},
      {"subscriber":"ordering","eventType":"catalog.stock_reservation_rejected.v1"},
      {"subscriber":"catalog","eventType":"catalog.stock_reservation_requested.v1"},
      {"subscriber":"ordering","eventType":"catalog.stock_reserved.v1"},
      {"subscriber":"ordering","eventType":"ordering.order_completed.v1"},
      {"subscriber":"ordering","eventType":"ordering.order_placed.v1"},
      {"subscriber":"ordering","eventType":"ordering.order_shipped.v1"},
      {"subscriber":"ordering","eventType":"ordering.order_stock_confirmed.v1"},
      {"subscriber":"ordering","eventType":"ordering.refund_requested.v1"}]}})"));
}

TEST_CASE("the server's threads are named for what they do: I/O, workers, each database's committer",
          "[operations][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.threads = 2;
  test::TestServer server(config);
  std::map<std::string, int> names;
  for (const auto& [tid, name] : threads_of_this_process()) ++names[name];
  CHECK(names["http-io"] == 2);
  CHECK(names["http-worker"] == 32);
  if (!test::on_postgres()) {  // SQLite: a committer per module's file
    CHECK(names["db-ordering"] == 1);
    CHECK(names["db-basket"] == 1);
  }
}

TEST_CASE("the commit threads of an order's steps run ahead of basket's, identity's and discount's",
          "[operations][http]") {
  if (test::on_postgres()) return;  // PostgreSQL commits on the writer's own connection: no such thread
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  test::TestServer server(config);
  const int base = getpriority(PRIO_PROCESS, 0);  // threads start with their creator's
  // Whether this process may raise a thread's priority (root, or an RLIMIT_NICE that allows it).
  int raised = base;
  std::thread([&] {
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -5) == 0) raised = getpriority(PRIO_PROCESS, 0);
  }).join();
  const std::map<std::string, int> expected{{"db-basket", base},    {"db-catalog", raised}, {"db-discount", base},
                                            {"db-identity", base},  {"db-ordering", raised}, {"db-payments", raised}};
  std::map<std::string, int> nice;
  // A commit thread names itself, then sets its priority, as it starts.
  test::eventually([&] {
    nice.clear();
    for (const auto& [tid, name] : threads_of_this_process())
      if (name.starts_with("db-")) nice[name] = getpriority(PRIO_PROCESS, tid);
    return nice == expected;
  });
  CHECK(nice == expected);
}

TEST_CASE("users, sessions and catalog changes survive a restart", "[operations][http]") {
  test::TempDir dir;
  std::string token;
  {
    test::TestServer first(dir.path());
    token = first.customer_token("ann@example.com");
    auto c = first.client();
    REQUIRE(c.put("/api/v1/catalog/products/2", R"({"price":17777})", first.admin_token()).status == 200);
    REQUIRE(c.del("/api/v1/catalog/products/3", first.admin_token()).status == 204);
  }
  test::TestServer second(dir.path());
  auto c = second.client();
  CHECK(body_of(c.get("/api/v1/identity/me", token)).at("email") == "ann@example.com");
  CHECK(body_of(c.get("/api/v1/catalog/products/2")).at("price") == 17777);
  CHECK(c.get("/api/v1/catalog/products/3").status == 404);
  CHECK(body_of(c.get("/api/v1/catalog/products")).at("totalItems") == 63);  // demo data is not loaded twice
  CHECK(second.login("ann@example.com", "password-123").size() == 43);
}

TEST_CASE("metrics count events published and handled, and the outbox backlog", "[operations][http]") {
  test::TestServer server;
  auto c = server.client();
  REQUIRE(c.put("/api/v1/catalog/products/1", R"({"price":11111})", server.admin_token()).status == 200);
  const std::vector<std::string> expected = {
      R"(eshop_events_total{module="catalog",outcome="published",type="catalog.product_price_changed.v1"} 1)",
      R"(eshop_events_total{module="basket",outcome="handled",type="catalog.product_price_changed.v1"} 1)",
      R"(eshop_events_total{module="basket",outcome="handled",type="catalog.product_updated.v1"} 1)",
      R"(eshop_outbox_backlog{module="catalog"} 0)"};
  std::string text;
  for (int i = 0; i < 250; ++i) {  // events are asynchronous: wait until the relay has settled
    text = c.get("/metrics").body;
    if (std::all_of(expected.begin(), expected.end(), [&](const auto& e) { return text.find(e) != std::string::npos; }))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& e : expected) CHECK_THAT(text, Catch::Contains(e));
}

TEST_CASE("a module hosted by an unreachable process answers 503, and the topology says where it should be",
          "[operations][http]") {
  test::TempDir dir;
  auto config = test::test_config(dir.path());
  config.modules = {"identity", "catalog", "discount", "basket"};
  config.remotes["ordering"] = "http://127.0.0.1:1";  // nothing listens there
  test::TestServer gateway(config);
  auto c = gateway.client();
  const auto token = gateway.customer_token("ann@example.com");
  const auto forged = c.get("/api/v1/orders", "not-a-token");
  CHECK(forged.status == 401);  // refused at the edge, before any proxying
  CHECK(forged.headers.get("WWW-Authenticate") == "Bearer");
  const auto res = c.get("/api/v1/orders", token);
  CHECK(res.status == 503);
  CHECK(body_of(res).at("detail") == "The ordering module is unreachable.");
  const auto topology = body_of(c.get("/api/v1/admin/topology", gateway.admin_token()));
  CHECK(topology.at("modules")[4] ==
        nlohmann::json::parse(R"({"name":"ordering","location":"remote","url":"http://127.0.0.1:1","movable":true})"));
  CHECK(c.get("/api/v1/catalog/products/1").status == 200);  // the rest of the shop serves on
}
