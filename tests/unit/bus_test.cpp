#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include <eshop/event_bus.hpp>

using namespace eshop;

namespace {

Event sample_event() {
  return {"e-1", "catalog.product_price_changed.v1", "catalog", *parse_rfc3339("2026-11-24T10:00:00Z"), "req-9",
          nlohmann::json{{"productId", 7}, {"price", 1999}}};
}

}  // namespace

TEST_CASE("an event survives the JSON round trip unchanged", "[kernel][unit]") {
  const auto back = event_from_json(nlohmann::json::parse(to_json(sample_event()).dump()));
  CHECK(back.id == "e-1");
  CHECK(back.type == "catalog.product_price_changed.v1");
  CHECK(back.source == "catalog");
  CHECK(to_rfc3339(back.time) == "2026-11-24T10:00:00Z");
  CHECK(back.correlation_id == "req-9");
  CHECK(back.payload == nlohmann::json{{"productId", 7}, {"price", 1999}});
}

TEST_CASE("an envelope without its fields is refused", "[kernel][unit]") {
  CHECK_THROWS_AS(event_from_json(nlohmann::json{{"id", "x"}}), std::invalid_argument);
}

TEST_CASE("the in-process bus delivers to every subscriber of the type, off the publisher's thread",
          "[kernel][unit]") {
  auto bus = make_inprocess_bus();
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> seen;
  const auto publisher = std::this_thread::get_id();
  bool other_thread = true;
  auto record = [&](std::string who) {
    return [&, who](const Event& e) {
      std::lock_guard lock(m);
      other_thread = other_thread && std::this_thread::get_id() != publisher;
      seen.push_back(who + ":" + e.payload.at("productId").dump());
      cv.notify_all();
    };
  };
  bus->subscribe("basket", "catalog.product_price_changed.v1", record("basket"));
  bus->subscribe("ordering", "catalog.product_price_changed.v1", record("ordering"));
  bus->subscribe("ordering", "catalog.product_deleted.v1", record("never"));
  bus->start();
  bus->publish(sample_event());
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.size() == 2; }));
  }
  bus->stop();
  CHECK(seen == std::vector<std::string>{"basket:7", "ordering:7"});
  CHECK(other_thread);
  CHECK(bus->subscriptions().size() == 3);
  CHECK(bus->transport() == "inproc");
}

TEST_CASE("stopping the bus delivers what was already published", "[kernel][unit]") {
  auto bus = make_inprocess_bus();
  std::atomic<int> handled{0};
  bus->subscribe("basket", "catalog.product_price_changed.v1", [&](const Event&) { ++handled; });
  bus->start();
  for (int i = 0; i < 100; ++i) bus->publish(sample_event());
  bus->stop();
  CHECK(handled == 100);
}

TEST_CASE("a failing handler does not stop delivery to the next", "[kernel][unit]") {
  auto bus = make_inprocess_bus();
  std::atomic<int> handled{0};
  bus->subscribe("a", "t.v1", [](const Event&) { throw std::runtime_error("boom"); });
  bus->subscribe("b", "t.v1", [&](const Event&) { ++handled; });
  bus->start();
  auto e = sample_event();
  e.type = "t.v1";
  bus->publish(e);
  bus->stop();
  CHECK(handled == 1);
}
