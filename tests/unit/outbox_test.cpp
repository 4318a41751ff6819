// The transactional outbox and the idempotent inbox, over the in-process bus and real SQLite files.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include <eshop/crypto.hpp>
#include <eshop/outbox.hpp>

using namespace eshop;

namespace {

struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("eshop-outbox-" + std::to_string(::getpid()) + "-" + crypto::random_token(6) + ".db"))
                         .string();
  ~TempFile() {
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

Event event(int n) {
  return {"ev-" + std::to_string(n), "test.happened.v1", "catalog", std::chrono::system_clock::now(), "req",
          nlohmann::json{{"n", n}}};
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

RelayOptions fast() {
  RelayOptions o;
  o.min_backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(20);
  return o;
}

}  // namespace

TEST_CASE("committed events are delivered in order; rolled-back ones never", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::vector<int> seen;
  std::mutex m;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    std::lock_guard lock(m);
    seen.push_back(e.payload.at("n"));
  });
  bus->start();
  OutboxRelay relay(*db, *bus, "catalog", telemetry, fast());
  relay.start();
  db->write([](soci::session& sql) {
    outbox::enqueue(sql, event(1));
    outbox::enqueue(sql, event(2));
  });
  CHECK_THROWS(db->write([](soci::session& sql) {
    outbox::enqueue(sql, event(3));
    throw std::runtime_error("rolled back");
  }));
  db->write([](soci::session& sql) { outbox::enqueue(sql, event(4)); });
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  std::lock_guard lock(m);
  CHECK(seen == std::vector<int>{1, 2, 4});
}

TEST_CASE("events committed while no relay ran are delivered, exactly, when one starts", "[kernel][unit]") {
  TempFile file;
  NoTelemetry telemetry;
  {
    // The "crash": state and events committed, the process gone before any delivery.
    auto db = Database::open(file.path);
    outbox::install(*db);
    db->write([](soci::session& sql) {
      for (int i = 1; i <= 3; ++i) outbox::enqueue(sql, event(i));
    });
  }
  auto db = Database::open(file.path);
  auto bus = make_inprocess_bus(telemetry);
  std::vector<std::string> ids;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) { ids.push_back(e.id); });
  bus->start();
  OutboxRelay relay(*db, *bus, "catalog", telemetry, fast());
  CHECK(relay.backlog() == 3);
  relay.start();
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  CHECK(ids == std::vector<std::string>{"ev-1", "ev-2", "ev-3"});
}

TEST_CASE("a failing delivery is retried, and later events wait for it", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::atomic<int> failures_left{3};
  std::vector<int> seen;
  std::mutex m;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    if (e.payload.at("n") == 1 && failures_left-- > 0) throw std::runtime_error("database busy");
    std::lock_guard lock(m);
    seen.push_back(e.payload.at("n"));
  });
  bus->start();
  OutboxRelay relay(*db, *bus, "catalog", telemetry, fast());
  relay.start();
  db->write([](soci::session& sql) {
    outbox::enqueue(sql, event(1));
    outbox::enqueue(sql, event(2));
  });
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  std::lock_guard lock(m);
  CHECK(seen == std::vector<int>{1, 2});
}

TEST_CASE("an event that keeps failing is dead-lettered and does not block the rest", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::vector<int> seen;
  std::mutex m;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    if (e.payload.at("n") == 1) throw std::runtime_error("poison");
    std::lock_guard lock(m);
    seen.push_back(e.payload.at("n"));
  });
  bus->start();
  auto options = fast();
  options.max_attempts = 3;
  OutboxRelay relay(*db, *bus, "catalog", telemetry, options);
  relay.start();
  db->write([](soci::session& sql) {
    outbox::enqueue(sql, event(1));
    outbox::enqueue(sql, event(2));
  });
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  int dead = 0, attempts = 0;
  db->read([&](soci::session& sql) {
    sql << "SELECT COUNT(*), MAX(attempts) FROM outbox WHERE dead_at IS NOT NULL", soci::into(dead), soci::into(attempts);
  });
  CHECK(dead == 1);
  CHECK(attempts == 3);
  std::lock_guard lock(m);
  CHECK(seen == std::vector<int>{2});
}

TEST_CASE("the inbox applies a redelivered event once", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  outbox::install(*db);
  db->write([](soci::session& sql) { sql << "CREATE TABLE counter (n INTEGER)"; sql << "INSERT INTO counter VALUES (0)"; });
  const auto e = event(1);
  auto bump = [](soci::session& sql) { sql << "UPDATE counter SET n = n + 1"; };
  CHECK(inbox::handle_once(*db, e, "basket.count", bump));
  CHECK_FALSE(inbox::handle_once(*db, e, "basket.count", bump));
  CHECK(inbox::handle_once(*db, e, "basket.other_handler", bump));  // another handler has its own record
  int n = 0;
  db->read([&](soci::session& sql) { sql << "SELECT n FROM counter", soci::into(n); });
  CHECK(n == 2);
}

TEST_CASE("an effect that throws records nothing, so the retry applies it", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  outbox::install(*db);
  const auto e = event(1);
  CHECK_THROWS(inbox::handle_once(*db, e, "h", [](soci::session&) { throw std::runtime_error("fail"); }));
  int calls = 0;
  CHECK(inbox::handle_once(*db, e, "h", [&](soci::session&) { ++calls; }));
  CHECK(calls == 1);
}
