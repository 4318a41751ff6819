// The kernel's inbox-wrapped event handler, the one wiring every module uses: a typed payload, the
// effect and the inbox record in one transaction, an external call skipped for a duplicate.
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/test_database.hpp"

#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <eshop/crypto.hpp>
#include <eshop/event_handlers.hpp>

using namespace eshop;

namespace {

struct Ping {
  static constexpr std::string_view kType = "test.ping.v1";
  std::int64_t n = 0;
};
void from_json(const nlohmann::json& j, Ping& p) { p.n = j.at("n").get<std::int64_t>(); }

// Keeps what is subscribed, and hands an event to its handlers as a transport would: a handler
// that throws makes the delivery fail (the transport would redeliver).
class Capture final : public EventBus {
 public:
  std::multimap<std::string, std::pair<std::string, Handler>> handlers;  // type -> (subscriber, handler)
  void deliver(const Event& e) {
    for (auto [it, end] = handlers.equal_range(e.type); it != end; ++it) it->second.second(e);
  }
  void publish(const Event& e) override { deliver(e); }
  void subscribe(std::string subscriber, std::string type, Handler h) override {
    handlers.emplace(std::move(type), std::make_pair(std::move(subscriber), std::move(h)));
  }
  void expect_subscriber(std::string, std::string) override {}
  void start() override {}
  void stop() override {}
  bool healthy() const override { return true; }
  std::string transport() const override { return "capture"; }
  std::vector<Subscription> subscriptions() const override {
    std::vector<Subscription> out;
    for (const auto& [type, h] : handlers) out.push_back({h.first, type});
    return out;
  }
};

Event ping(const std::string& id, std::int64_t n) {
  return {id, std::string(Ping::kType), "catalog", std::chrono::system_clock::now(), "req-1", nlohmann::json{{"n", n}},
          ""};
}

struct Fixture {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("eshop-handlers-" + std::to_string(::getpid()) + "-" + crypto::random_token(6) + ".db"))
                         .string();
  test::TestDatabase db = test::open_test_database("basket", path);
  Capture bus;
  Fixture() {
    outbox::install(*db);
    db->write([](Tx& tx) { tx.execute("CREATE TABLE pings (n BIGINT NOT NULL)"); });
  }
  ~Fixture() {
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  std::int64_t count(const std::string& sql) {
    return db->read([&](Tx& tx) { return test::scalar(tx, sql); });
  }
  std::int64_t pings() { return count("SELECT COUNT(*) FROM pings"); }
  std::int64_t sum() { return count("SELECT COALESCE(SUM(n), 0) FROM pings"); }
  std::int64_t inbox(const std::string& handler) {
    return db->read([&](Tx& tx) {
      auto& q = tx.statement("SELECT COUNT(*) FROM inbox WHERE handler = ?1");
      q.bind(1, handler);
      return q.next() ? q.int64(0) : std::int64_t{-1};
    });
  }
};

void insert(Tx& tx, std::int64_t n) { tx.statement("INSERT INTO pings(n) VALUES(?1)").bind(1, n).run(); }

}  // namespace

TEST_CASE("an event's effect commits once with its inbox record, however often it is delivered", "[unit][inbox]") {
  Fixture f;
  int runs = 0;
  EventHandlers on(f.bus, *f.db, "basket");
  on.handle<Ping>("basket.ping", [&](Tx& tx, const Ping& p, const Event& e) {
    ++runs;
    CHECK(e.correlation_id == "req-1");
    insert(tx, p.n);
  });
  REQUIRE(f.bus.handlers.size() == 1);
  CHECK(f.bus.handlers.begin()->first == "test.ping.v1");
  CHECK(f.bus.handlers.begin()->second.first == "basket");

  f.bus.deliver(ping("ev-1", 7));
  f.bus.deliver(ping("ev-1", 7));  // redelivered
  f.bus.deliver(ping("ev-2", 5));
  CHECK(runs == 2);
  CHECK(f.pings() == 2);
  CHECK(f.sum() == 12);
  CHECK(f.inbox("basket.ping") == 2);
}

TEST_CASE("an effect that fails leaves neither its writes nor an inbox record, and the redelivery applies it",
          "[unit][inbox]") {
  Fixture f;
  bool fail = true;
  EventHandlers on(f.bus, *f.db, "basket");
  on.handle<Ping>("basket.ping", [&](Tx& tx, const Ping& p, const Event&) {
    insert(tx, p.n);
    if (fail) throw std::runtime_error("refused");
  });
  CHECK_THROWS_WITH(f.bus.deliver(ping("ev-1", 7)), "refused");
  CHECK(f.pings() == 0);
  CHECK(f.inbox("basket.ping") == 0);
  fail = false;
  f.bus.deliver(ping("ev-1", 7));
  CHECK(f.pings() == 1);
  CHECK(f.inbox("basket.ping") == 1);
}

TEST_CASE("a payload that is not the event's type fails the delivery and records nothing", "[unit][inbox]") {
  Fixture f;
  int runs = 0;
  EventHandlers on(f.bus, *f.db, "basket");
  on.handle<Ping>("basket.ping", [&](Tx&, const Ping&, const Event&) { ++runs; });
  auto bad = ping("ev-1", 1);
  bad.payload = nlohmann::json{{"n", "seven"}};
  CHECK_THROWS(f.bus.deliver(bad));
  CHECK(runs == 0);
  CHECK(f.inbox("basket.ping") == 0);
}

TEST_CASE("then() runs after the commit with what the effect returned, and not for a duplicate", "[unit][inbox]") {
  Fixture f;
  std::vector<std::int64_t> after;
  EventHandlers on(f.bus, *f.db, "catalog");
  on.handle<Ping>(
      "catalog.ping",
      [&](Tx& tx, const Ping& p, const Event&) {
        insert(tx, p.n);
        return p.n * 10;
      },
      [&](std::int64_t result) {
        CHECK(f.pings() == static_cast<std::int64_t>(after.size()) + 1);  // committed: visible to a new read
        after.push_back(result);
      });
  f.bus.deliver(ping("ev-1", 3));
  f.bus.deliver(ping("ev-1", 3));
  f.bus.deliver(ping("ev-2", 4));
  CHECK(after == std::vector<std::int64_t>{30, 40});
}

namespace {

// Starts an event the way the in-process bus does with a StartableHandler, and waits until `done`
// ran; what it was given (nullptr: success).
std::exception_ptr start_and_wait(const StartableHandler& handler, const Event& e) {
  std::promise<std::exception_ptr> finished;
  auto outcome = finished.get_future();
  handler.start(e, [&finished](std::exception_ptr error) { finished.set_value(error); });
  REQUIRE(outcome.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return outcome.get();
}

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

}  // namespace

TEST_CASE("then() of a started handler runs after the commit on the subscriber's then-thread, and the event is done after it",
          "[unit][inbox]") {
  Fixture f;
  struct After {
    std::int64_t result = 0;
    std::int64_t committed = 0;  // pings visible to a new read when then() ran
    std::string thread;
  };
  std::mutex mutex;
  std::vector<After> after;
  EventHandlers on(f.bus, *f.db, "catalog");
  on.handle<Ping>(
      "catalog.ping",
      [&](Tx& tx, const Ping& p, const Event&) {
        if (p.n < 0) throw std::runtime_error("no such product");
        insert(tx, p.n);
        return p.n * 10;
      },
      [&](std::int64_t result) {
        const After a{result, f.pings(), thread_name()};
        std::lock_guard lock(mutex);
        after.push_back(a);
        if (result == 70) throw std::runtime_error("read model refresh failed");
      });
  REQUIRE(f.bus.handlers.size() == 1);
  const auto* startable = f.bus.handlers.begin()->second.second.target<StartableHandler>();
  if (!f.db->writes_in_background()) {  // PostgreSQL: the relay's lane waits for the commit, as before
    CHECK(startable == nullptr);
    return;
  }
  REQUIRE(startable != nullptr);

  CHECK(start_and_wait(*startable, ping("ev-1", 3)) == nullptr);
  CHECK(start_and_wait(*startable, ping("ev-1", 3)) == nullptr);  // a duplicate: done, and no then()
  REQUIRE(after.size() == 1);
  CHECK(after[0].result == 30);
  CHECK(after[0].committed == 1);
  CHECK(after[0].thread == "then-catalog");

  // An effect that fails: no commit, no then(), and the error reaches done (the relay retries).
  const auto failed = start_and_wait(*startable, ping("ev-2", -1));
  REQUIRE(failed != nullptr);
  CHECK_THROWS_WITH(std::rethrow_exception(failed), "no such product");
  CHECK(after.size() == 1);
  CHECK(f.inbox("catalog.ping") == 1);

  // then() that fails: its error reaches done, after the commit (a redelivery is then a duplicate,
  // as when a lane waited).
  const auto refresh_failed = start_and_wait(*startable, ping("ev-3", 7));
  REQUIRE(refresh_failed != nullptr);
  CHECK_THROWS_WITH(std::rethrow_exception(refresh_failed), "read model refresh failed");
  CHECK(f.inbox("catalog.ping") == 2);

  // Many started at once: each then() once, in the order they were started (one committer, one
  // then-thread), each after its own commit.
  std::vector<std::future<std::exception_ptr>> outcomes;
  std::vector<std::shared_ptr<std::promise<std::exception_ptr>>> promises;
  for (int i = 0; i < 50; ++i) {
    auto p = std::make_shared<std::promise<std::exception_ptr>>();
    outcomes.push_back(p->get_future());
    promises.push_back(p);
    startable->start(ping("many-" + std::to_string(i), 100 + i), [p](std::exception_ptr error) { p->set_value(error); });
  }
  for (auto& o : outcomes) {
    REQUIRE(o.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(o.get() == nullptr);
  }
  std::lock_guard lock(mutex);
  REQUIRE(after.size() == 52);
  for (int i = 0; i < 50; ++i) {
    CHECK(after[2 + i].result == (100 + i) * 10);
    CHECK(after[2 + i].committed >= 3 + i);
    CHECK(after[2 + i].thread == "then-catalog");
  }
  CHECK(f.inbox("catalog.ping") == 52);
}

TEST_CASE("handle_after: the external call runs outside the transaction, once, and its result reaches the effect",
          "[unit][inbox]") {
  Fixture f;
  int calls = 0;
  bool commit_fails = false;
  EventHandlers on(f.bus, *f.db, "ordering");
  on.handle_after<Ping>(
      "ordering.charge",
      [&](const Ping& p, const Event&) {
        ++calls;
        CHECK(f.pings() >= 0);  // no transaction of the handler's is open: the database can be read
        return "ch-" + std::to_string(p.n);
      },
      [&](Tx& tx, const std::string& charge, const Ping& p, const Event&) {
        CHECK(charge == "ch-" + std::to_string(p.n));
        insert(tx, p.n);
        if (commit_fails) throw std::runtime_error("disk full");
      });
  f.bus.deliver(ping("ev-1", 9));
  f.bus.deliver(ping("ev-1", 9));  // a duplicate: the call is skipped, not just the effect
  CHECK(calls == 1);
  CHECK(f.pings() == 1);
  // A crash (here: a failure) between the call and the commit: the redelivery calls again, which
  // is why such a call must be idempotent.
  commit_fails = true;
  CHECK_THROWS_WITH(f.bus.deliver(ping("ev-2", 4)), "disk full");
  commit_fails = false;
  f.bus.deliver(ping("ev-2", 4));
  CHECK(calls == 3);
  CHECK(f.pings() == 2);
  CHECK(f.inbox("ordering.charge") == 2);
}

TEST_CASE("handle_after with a read: the read shares the inbox check's transaction, and the call gets what it read",
          "[unit][inbox]") {
  Fixture f;
  int reads = 0, calls = 0;
  EventHandlers on(f.bus, *f.db, "ordering");
  on.handle_after<Ping>(
      "ordering.charge",
      [&](Tx& tx, const Ping& p, const Event&) {
        ++reads;
        return test::scalar(tx, "SELECT COUNT(*) FROM pings") * 1000 + p.n;  // read in the handler's read
      },
      [&](const std::int64_t& seen, const Ping& p, const Event&) {
        ++calls;
        CHECK(f.pings() >= 0);  // no transaction of the handler's is open: the database can be read
        return "ch-" + std::to_string(seen) + "-" + std::to_string(p.n);
      },
      [&](Tx& tx, const std::string& charge, const Ping& p, const Event&) {
        CHECK(charge == (p.n == 9 ? "ch-9-9" : "ch-1004-4"));  // the read saw no ping, then the first
        insert(tx, p.n);
      });
  f.bus.deliver(ping("ev-1", 9));
  f.bus.deliver(ping("ev-1", 9));  // a duplicate: neither the read nor the call runs again
  f.bus.deliver(ping("ev-2", 4));
  CHECK(reads == 2);
  CHECK(calls == 2);
  CHECK(f.pings() == 2);
  CHECK(f.inbox("ordering.charge") == 2);
}

TEST_CASE("two modules' handlers of one event each apply it once, by their own names", "[unit][inbox]") {
  Fixture f;
  EventHandlers basket(f.bus, *f.db, "basket");
  EventHandlers ordering(f.bus, *f.db, "ordering");
  basket.handle<Ping>("basket.ping", [](Tx& tx, const Ping& p, const Event&) { insert(tx, p.n); });
  ordering.handle<Ping>("ordering.ping", [](Tx& tx, const Ping& p, const Event&) { insert(tx, p.n * 100); });
  f.bus.deliver(ping("ev-1", 2));
  f.bus.deliver(ping("ev-1", 2));
  CHECK(f.pings() == 2);
  CHECK(f.sum() == 202);
  CHECK(f.inbox("basket.ping") == 1);
  CHECK(f.inbox("ordering.ping") == 1);
}

TEST_CASE("slow motion: each handler waits its delay before it runs", "[unit][inbox]") {
  Fixture f;
  EventHandlers on(f.bus, *f.db, "ordering", {.delay = std::chrono::milliseconds(150)});
  on.handle<Ping>("ordering.ping", [](Tx& tx, const Ping& p, const Event&) { insert(tx, p.n); });
  const auto start = std::chrono::steady_clock::now();
  f.bus.deliver(ping("ev-1", 1));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  CHECK(f.pings() == 1);
}
