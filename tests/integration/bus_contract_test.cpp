// The event bus's contract, run over each transport: ESHOP_TEST_BUS=amqp for RabbitMQ, the
// in-process bus otherwise. Events go in through a real outbox and relay, as in production.
#include <catch2/catch.hpp>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <mutex>
#include <set>

#include <eshop/crypto.hpp>
#include <eshop/outbox.hpp>

#include "support/eventually.hpp"
#include "support/db_query.hpp"
#include "support/test_server.hpp"
#include "transport/amqp_bus.hpp"

using namespace eshop;
using eshop::test::eventually;

namespace {

bool over_amqp() {
  const char* bus = std::getenv("ESHOP_TEST_BUS");
  return bus && std::string(bus) == "amqp";
}

// Messages waiting in a queue of the test broker (a passive declare reports the count).
std::uint32_t waiting_in(const std::string& queue) {
  std::string url = test::amqp_test_url();
  amqp_connection_info info{};
  REQUIRE(amqp_parse_url(url.data(), &info) == AMQP_STATUS_OK);
  auto conn = amqp_new_connection();
  auto* socket = amqp_tcp_socket_new(conn);
  REQUIRE(amqp_socket_open(socket, info.host, info.port) == AMQP_STATUS_OK);
  REQUIRE(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, info.user, info.password).reply_type ==
          AMQP_RESPONSE_NORMAL);
  amqp_channel_open(conn, 1);
  auto* ok = amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue.c_str()), 1, 0, 0, 0, amqp_empty_table);
  const std::uint32_t count = ok ? ok->message_count : 0;
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  return count;
}

struct Harness {
  test::TempDir dir;
  std::string ns = test::test_namespace();
  NoTelemetry telemetry;
  std::unique_ptr<EventBus> bus = over_amqp() ? transport::make_amqp_bus({.url = test::amqp_test_url(), .name_space = ns,
                                                                          .delivery_limit = 3},
                                                                         telemetry)
                                              : make_inprocess_bus(telemetry);
  std::unique_ptr<Database> producer = Database::open((dir.path() / "producer.db").string());
  std::unique_ptr<Database> consumer = Database::open((dir.path() / "consumer.db").string());
  std::unique_ptr<OutboxRelay> relay;

  Harness() {
    outbox::install(*consumer);
    RelayOptions o;
    o.min_backoff = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(50);
    o.max_attempts = 3;
    relay = std::make_unique<OutboxRelay>(*producer, *bus, "catalog", telemetry, o);
  }
  void start() {
    bus->start();
    if (over_amqp()) REQUIRE(eventually([&] { return bus->healthy(); }));
    relay->start();
  }
  ~Harness() {
    relay->stop();
    bus->stop();
  }
  void publish(const Event& e) {
    producer->write([&](Tx& tx) { outbox::enqueue(tx, e); });
  }
};

Event sample(const std::string& type, int n, std::string key = "k-1") {
  return {crypto::new_uuid(), type, "catalog", *parse_rfc3339("2026-11-24T10:00:00Z"), "req-" + std::to_string(n),
          nlohmann::json{{"n", n}, {"text", "ünïcode ✓"}}, std::move(key)};
}

}  // namespace

TEST_CASE("an event reaches every subscribing module once, its envelope intact", "[contract]") {
  Harness h;
  std::mutex m;
  std::vector<std::pair<std::string, Event>> got;
  for (const char* module : {"basket", "ordering"})
    h.bus->subscribe(module, "contract.happened.v1", [&, module](const Event& e) {
      std::lock_guard lock(m);
      got.emplace_back(module, e);
    });
  h.bus->subscribe("ordering", "contract.other.v1", [&](const Event&) { FAIL("wrong type delivered"); });
  h.start();
  const auto sent = sample("contract.happened.v1", 1, "order-7");
  h.publish(sent);
  REQUIRE(eventually([&] {
    std::lock_guard lock(m);
    return got.size() == 2;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // and no third
  std::lock_guard lock(m);
  REQUIRE(got.size() == 2);
  std::set<std::string> modules;
  for (const auto& [module, e] : got) {
    modules.insert(module);
    CHECK(e.id == sent.id);
    CHECK(e.type == sent.type);
    CHECK(e.source == "catalog");
    CHECK(to_rfc3339(e.time) == "2026-11-24T10:00:00Z");
    CHECK(e.correlation_id == "req-1");
    CHECK(e.key == "order-7");
    CHECK(e.payload == sent.payload);
  }
  CHECK(modules == std::set<std::string>{"basket", "ordering"});
  CHECK(h.bus->subscriptions().size() == 3);
}

TEST_CASE("a handler that fails gets the event again until it succeeds, once in effect", "[contract]") {
  Harness h;
  std::atomic<int> failures_left{2};
  h.consumer->write([](Tx& tx) { tx.execute("CREATE TABLE effects (n INTEGER)"); });
  h.bus->subscribe("basket", "contract.happened.v1", [&](const Event& e) {
    inbox::handle_once(*h.consumer, e, "basket.count", [&](Tx& tx) {
      if (failures_left-- > 0) throw std::runtime_error("not yet");
      const int n = e.payload.at("n");
      tx.statement("INSERT INTO effects(n) VALUES(?1)").bind(1, n).run();
    });
  });
  h.start();
  h.publish(sample("contract.happened.v1", 5));
  auto effects = [&] {
    return h.consumer->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM effects"); });
  };
  REQUIRE(eventually([&] { return effects() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(effects() == 1);
}

TEST_CASE("a poison event is set aside and the events after it still flow", "[contract]") {
  Harness h;
  std::mutex m;
  std::vector<int> handled;
  h.bus->subscribe("basket", "contract.happened.v1", [&](const Event& e) {
    if (e.payload.at("n") == 13) throw std::runtime_error("poison");
    std::lock_guard lock(m);
    handled.push_back(e.payload.at("n"));
  });
  h.start();
  h.publish(sample("contract.happened.v1", 13, "poisoned"));
  for (int n = 1; n <= 5; ++n) h.publish(sample("contract.happened.v1", n, "healthy-" + std::to_string(n)));
  REQUIRE(eventually([&] {
    std::lock_guard lock(m);
    return handled.size() == 5;
  }));
  if (over_amqp()) {
    CHECK(eventually([&] { return waiting_in(h.ns + ".basket.dead") == 1; }));
  } else {
    CHECK(eventually([&] {
      return h.producer->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL") == 1; });
    }));
  }
  std::lock_guard lock(m);
  std::sort(handled.begin(), handled.end());
  CHECK(handled == std::vector<int>{1, 2, 3, 4, 5});
}
