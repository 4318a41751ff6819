#include <catch2/catch.hpp>

#include <eshop/event_bus.hpp>

using namespace eshop;

namespace {

Event sample_event(std::string type = "catalog.product_price_changed.v1") {
  return {"e-1", std::move(type), "catalog", *parse_rfc3339("2026-11-24T10:00:00Z"), "req-9",
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

TEST_CASE("the in-process bus delivers to every subscriber of the type and no other", "[kernel][unit]") {
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::vector<std::string> seen;
  bus->subscribe("basket", "catalog.product_price_changed.v1",
                 [&](const Event& e) { seen.push_back("basket:" + e.payload.at("productId").dump()); });
  bus->subscribe("ordering", "catalog.product_price_changed.v1",
                 [&](const Event& e) { seen.push_back("ordering:" + e.correlation_id); });
  bus->subscribe("ordering", "catalog.product_deleted.v1", [&](const Event&) { seen.push_back("never"); });
  bus->start();
  bus->publish(sample_event());
  CHECK(seen == std::vector<std::string>{"basket:7", "ordering:req-9"});
  CHECK(bus->subscriptions().size() == 3);
  CHECK(bus->transport() == "inproc");
  CHECK_THROWS_AS(bus->subscribe("late", "x.v1", [](const Event&) {}), std::logic_error);
}

TEST_CASE("a failing handler makes publish throw, after the others ran", "[kernel][unit]") {
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  int handled = 0;
  bus->subscribe("a", "t.v1", [](const Event&) { throw std::runtime_error("boom"); });
  bus->subscribe("b", "t.v1", [&](const Event&) { ++handled; });
  bus->start();
  CHECK_THROWS_WITH(bus->publish(sample_event("t.v1")), "event e-1 not handled by a: boom");
  CHECK(handled == 1);
}

TEST_CASE("an event nobody subscribes to is taken without effect", "[kernel][unit]") {
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  bus->start();
  CHECK_NOTHROW(bus->publish(sample_event("nobody.listens.v1")));
}

TEST_CASE("the in-process bus starts an event without waiting only when every handler of its type can be started",
          "[kernel][unit]") {
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::vector<std::string> calls;
  std::vector<Done> pending;  // the work each started handler handed on, finished by the test
  auto startable = [&](std::string name, bool blocks) {
    return StartableHandler{[&calls, name](const Event&) { calls.push_back(name + ":handled"); },
                            [&calls, &pending, name](const Event&, Done done) {
                              calls.push_back(name + ":started");
                              pending.push_back(std::move(done));
                            },
                            blocks};
  };
  bus->subscribe("a", "quick.v1", startable("a", false));
  bus->subscribe("b", "quick.v1", startable("b", false));
  bus->subscribe("a", "calls.v1", startable("a", false));
  bus->subscribe("b", "calls.v1", startable("b", true));
  bus->subscribe("a", "mixed.v1", startable("a", false));
  bus->subscribe("b", "mixed.v1", [&](const Event&) { calls.push_back("b:plain"); });
  bus->start();
  CHECK(bus->starts("quick.v1") == Start::at_once);
  CHECK(bus->starts("calls.v1") == Start::blocks);
  CHECK(bus->starts("mixed.v1") == Start::waits);
  CHECK(bus->starts("nobody.v1") == Start::at_once);

  std::vector<std::string> outcomes;
  auto outcome = [&](std::exception_ptr error) {
    if (!error) return outcomes.push_back("ok");
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      outcomes.push_back(e.what());
    }
  };
  bus->publish_start(sample_event("quick.v1"), outcome);
  CHECK(calls == std::vector<std::string>{"a:started", "b:started"});
  REQUIRE(pending.size() == 2);
  pending[1](nullptr);
  CHECK(outcomes.empty());  // done waits for the last of them
  pending[0](std::make_exception_ptr(std::runtime_error("disk full")));
  CHECK(outcomes == std::vector<std::string>{"event e-1 not handled by a: disk full"});

  // Published synchronously, a startable handler is called as any other.
  calls.clear();
  bus->publish(sample_event("mixed.v1"));
  CHECK(calls == std::vector<std::string>{"a:handled", "b:plain"});
}
