// The transactional outbox and the idempotent inbox, over the in-process bus and real SQLite files.
#include <catch2/catch.hpp>

#include "support/db_query.hpp"
#include "support/test_database.hpp"

#include "support/eventually.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <semaphore>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include <eshop/clock.hpp>
#include <eshop/crypto.hpp>
#include <eshop/event_handlers.hpp>
#include <eshop/outbox.hpp>

using namespace eshop;
using eshop::test::eventually;

namespace {

struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("eshop-outbox-" + std::to_string(::getpid()) + "-" + crypto::random_token(6) + ".db"))
                         .string();
  ~TempFile() {
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

Event event(int n, std::string key = "aggregate-1") {
  return {"ev-" + std::to_string(n), "test.happened.v1", "catalog", std::chrono::system_clock::now(), "req",
          nlohmann::json{{"n", n}}, std::move(key)};
}

// How many of the outbox's rows are dead-lettered, and the most attempts one of them had.
struct DeadLetters {
  std::int64_t count = 0;
  std::int64_t max_attempts = 0;
  bool operator==(const DeadLetters&) const = default;
};
DeadLetters dead_letters(Database& db) {
  return db.read([](Tx& tx) {
    return DeadLetters{test::scalar(tx, "SELECT COUNT(*) FROM outbox WHERE dead_at IS NOT NULL"),
                       test::scalar(tx, "SELECT COALESCE(MAX(attempts), 0) FROM outbox WHERE dead_at IS NOT NULL")};
  });
}

RelayOptions fast() {
  RelayOptions o;
  o.min_backoff = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(20);
  return o;
}

// A database with an outbox, the in-process bus and a running relay. The subscriber records
// the `n` of every event it handles, and throws instead for those `refuse` picks.
struct Relayed {
  TempFile file;
  test::TestDatabase db = test::open_test_database("catalog", file.path);
  NoTelemetry telemetry;
  std::unique_ptr<EventBus> bus = make_inprocess_bus(telemetry);
  std::mutex m;
  std::vector<int> seen;
  std::unique_ptr<OutboxRelay> relay;  // last: stops first

  explicit Relayed(std::function<bool(int)> refuse = {}, RelayOptions options = fast()) {
    bus->subscribe("basket", "test.happened.v1", [this, refuse](const Event& e) {
      const int n = e.payload.at("n");
      if (refuse && refuse(n)) throw std::runtime_error("refused");
      std::lock_guard lock(m);
      seen.push_back(n);
    });
    bus->start();
    relay = std::make_unique<OutboxRelay>(*db, *bus, "catalog", telemetry, options);
    relay->start();
  }
  void publish(const std::vector<Event>& events) {
    db->write([&](Tx& tx) {
      for (const auto& e : events) outbox::enqueue(tx, e);
    });
  }
  // Waits until the outbox is empty, then stops the relay.
  void drain() {
    REQUIRE(eventually([&] { return relay->backlog() == 0; }));
    relay->stop();
  }
  std::vector<int> handled() {
    std::lock_guard lock(m);
    return seen;
  }
};

}  // namespace

TEST_CASE("committed events of one key are delivered in order, rolled-back ones never", "[kernel][unit][outbox]") {
  Relayed r;
  r.publish({event(1), event(2)});
  CHECK_THROWS(r.db->write([](Tx& tx) {
    outbox::enqueue(tx, event(3));
    throw std::runtime_error("rolled back");
  }));
  r.publish({event(4)});
  r.drain();
  CHECK(r.handled() == std::vector<int>{1, 2, 4});
}

TEST_CASE("events committed while no relay ran are delivered, exactly, when one starts", "[kernel][unit]") {
  TempFile file;
  NoTelemetry telemetry;
  {
    // The "crash": state and events committed, the process gone before any delivery.
    auto db = Database::open(file.path);
    outbox::install(*db);
    db->write([](Tx& tx) {
      for (int i = 1; i <= 3; ++i) outbox::enqueue(tx, event(i));
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

TEST_CASE("a state event waiting behind a later one of its key and type is skipped, and counts as delivered",
          "[kernel][unit][outbox]") {
  TempFile file;
  NoTelemetry telemetry;
  auto state = [](int n, std::string key) {
    auto e = event(n, std::move(key));
    e.type = "test.state.v1";
    return e;
  };
  {
    // A backlog committed while no relay ran: the relay hands it to its lane in one piece.
    auto db = Database::open(file.path);
    outbox::install(*db);
    db->write([&](Tx& tx) {
      for (const auto& e : {state(1, "k1"), state(2, "k1"), state(3, "k1"), event(4, "k1"), state(5, "k1"),
                            state(6, "k2"), state(7, "k1")})
        outbox::enqueue(tx, e);
    });
  }
  auto db = Database::open(file.path);
  auto bus = make_inprocess_bus(telemetry);
  std::vector<std::string> ids;
  for (const auto* type : {"test.state.v1", "test.happened.v1"})
    bus->subscribe("basket", type, [&](const Event& e) { ids.push_back(e.id); });
  bus->start();
  auto options = fast();
  options.lanes = 1;  // one lane: one order of delivery to check
  options.state_events = {"test.state.v1"};
  OutboxRelay relay(*db, *bus, "catalog", telemetry, options);
  relay.start();
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  // 1 and 2 are superseded by 3; 3 is not (the next of k1 is another type); 5 is superseded by 7
  // (6 is another key); 6 is the last of k2.
  CHECK(ids == std::vector<std::string>{"ev-3", "ev-4", "ev-6", "ev-7"});
}

TEST_CASE("a failing delivery is retried, and later events of its key wait for it", "[kernel][unit][outbox]") {
  std::atomic<int> failures_left{3};
  Relayed r([&](int n) { return n == 1 && failures_left-- > 0; });
  r.publish({event(1), event(2)});
  r.drain();
  CHECK(r.handled() == std::vector<int>{1, 2});
}

TEST_CASE("an event that keeps failing is dead-lettered and does not block the rest", "[kernel][unit][outbox]") {
  auto options = fast();
  options.max_attempts = 3;
  Relayed r([](int n) { return n == 1; }, options);
  r.publish({event(1), event(2)});
  r.drain();
  CHECK(dead_letters(*r.db) == DeadLetters{1, 3});
  CHECK(r.handled() == std::vector<int>{2});
}

TEST_CASE("delivered rows whose deletion failed stay until a later deletion takes them, and are not delivered again",
          "[kernel][unit][outbox]") {
  Relayed r;
  // A trigger makes each deletion of delivered rows fail until it is dropped.
  const bool pg = test::on_postgres();
  r.db->write([&](Tx& tx) {
    if (pg) {
      tx.execute("CREATE FUNCTION outbox_kept() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN RAISE EXCEPTION 'kept'; END $$");
      tx.execute("CREATE TRIGGER outbox_kept BEFORE DELETE ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_kept()");
    } else {
      tx.execute("CREATE TRIGGER outbox_kept BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'kept'); END");
    }
  });
  r.publish({event(1), event(2, "aggregate-2"), event(3)});
  REQUIRE(eventually([&] { return r.handled().size() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // several deletions tried, and failed
  CHECK(r.relay->backlog() == 3);
  r.db->write([&](Tx& tx) { tx.execute(pg ? "DROP TRIGGER outbox_kept ON outbox" : "DROP TRIGGER outbox_kept"); });
  r.publish({event(4)});
  r.drain();  // the three kept rows deleted with the fourth's
  const auto seen = r.handled();
  CHECK(std::multiset<int>(seen.begin(), seen.end()) == std::multiset<int>{1, 2, 3, 4});
}

namespace {
// A UUIDv7 made at `t` (its first 48 bits the unix time in milliseconds), `n` telling apart those
// of the same millisecond.
std::string uuid_v7_at(TimePoint t, int n) { return crypto::uuid_v7_prefix(t) + fmt::format("7000-8000-{:012x}", n); }
void record_handled(Database& db, const std::string& event_id, const std::string& handler, TimePoint at) {
  db.write([&](Tx& tx) {
    tx.statement("INSERT INTO inbox(event_id, handler, handled_at) VALUES(?1, ?2, ?3)")
        .bind(1, event_id)
        .bind(2, handler)
        .bind(3, to_rfc3339(at))
        .run();
  });
}
std::multiset<std::string> inbox_records(Database& db) {
  return db.read([](Tx& tx) {
    std::multiset<std::string> out;
    auto& q = tx.statement("SELECT event_id || ' ' || handler FROM inbox");
    while (q.next()) out.insert(q.text(0));
    return out;
  });
}
}  // namespace

TEST_CASE("the inbox forgets events handled before a time, oldest first, a chunk at a time", "[kernel][unit][outbox]") {
  auto db = test::open_test_database("catalog");
  outbox::install(*db);
  const auto now = std::chrono::system_clock::now();
  const auto days = [](int n) { return std::chrono::hours(24 * n); };
  const auto oldest = uuid_v7_at(now - days(12), 1), older = uuid_v7_at(now - days(11), 2),
             old = uuid_v7_at(now - days(10), 3), late = uuid_v7_at(now - days(10), 4),
             recent = uuid_v7_at(now - std::chrono::minutes(5), 5);
  record_handled(*db, older, "basket.a", now - days(11));
  record_handled(*db, oldest, "basket.a", now - days(12));
  record_handled(*db, oldest, "ordering.b", now - days(12));  // another handler's record of it
  record_handled(*db, old, "basket.a", now - days(10));
  record_handled(*db, late, "basket.a", now - std::chrono::hours(1));  // made long ago, handled just now
  record_handled(*db, recent, "basket.a", now - std::chrono::minutes(5));
  record_handled(*db, "ev-1", "basket.a", now - days(30));  // not a UUIDv7: kept

  const auto week_ago = now - days(7);
  CHECK(inbox::prune(*db, week_ago, 2) == 2);  // the oldest event's two records
  CHECK(inbox_records(*db) == std::multiset<std::string>{older + " basket.a", old + " basket.a", late + " basket.a",
                                                         recent + " basket.a", "ev-1 basket.a"});
  CHECK(inbox::prune(*db, week_ago, 2) == 2);
  CHECK(inbox::prune(*db, week_ago, 2) == 0);
  CHECK(inbox_records(*db) == std::multiset<std::string>{late + " basket.a", recent + " basket.a", "ev-1 basket.a"});

  // What is left still drops a redelivery.
  int calls = 0;
  const Event again{recent, "test.happened.v1", "catalog", now, "req", nlohmann::json{{"n", 1}}, ""};
  CHECK_FALSE(inbox::handle_once(*db, again, "basket.a", [&](Tx&) { ++calls; }));
  CHECK(calls == 0);
}

TEST_CASE("a relay deletes inbox records older than its retention at start, then once per interval",
          "[kernel][unit][outbox]") {
  TempFile file;
  auto db = test::open_test_database("catalog", file.path);
  outbox::install(*db);
  const auto now = std::chrono::system_clock::now();
  const auto kept = uuid_v7_at(now - std::chrono::minutes(30), 1);
  record_handled(*db, uuid_v7_at(now - std::chrono::hours(3), 2), "basket.a", now - std::chrono::hours(3));
  record_handled(*db, uuid_v7_at(now - std::chrono::hours(2), 3), "basket.a", now - std::chrono::hours(2));
  record_handled(*db, kept, "basket.a", now - std::chrono::minutes(30));
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  bus->start();
  auto options = fast();
  options.inbox_retention = std::chrono::hours(1);
  options.inbox_prune_interval = std::chrono::milliseconds(50);
  OutboxRelay relay(*db, *bus, "catalog", telemetry, options);
  relay.start();
  REQUIRE(eventually([&] { return inbox_records(*db) == std::multiset<std::string>{kept + " basket.a"}; }));
  // One recorded while the relay runs goes at the next interval.
  record_handled(*db, uuid_v7_at(now - std::chrono::hours(5), 4), "basket.a", now - std::chrono::hours(5));
  REQUIRE(eventually([&] { return inbox_records(*db) == std::multiset<std::string>{kept + " basket.a"}; }));
  relay.stop();
}

TEST_CASE("the inbox applies a redelivered event once", "[kernel][unit][outbox]") {
  auto db = test::open_test_database("catalog");
  outbox::install(*db);
  db->write([](Tx& tx) { tx.execute("CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)"); });
  const auto e = event(1);
  auto bump = [](Tx& tx) { tx.execute("UPDATE counter SET n = n + 1"); };
  CHECK(inbox::handle_once(*db, e, "basket.count", bump));
  CHECK_FALSE(inbox::handle_once(*db, e, "basket.count", bump));
  CHECK(inbox::handle_once(*db, e, "basket.other_handler", bump));  // another handler has its own record
  const auto n = db->read([](Tx& tx) { return test::scalar(tx, "SELECT n FROM counter"); });
  CHECK(n == 2);
}

TEST_CASE("an effect that throws records nothing, so the retry applies it", "[kernel][unit][outbox]") {
  auto db = test::open_test_database("catalog");
  outbox::install(*db);
  const auto e = event(1);
  CHECK_THROWS(inbox::handle_once(*db, e, "h", [](Tx&) { throw std::runtime_error("fail"); }));
  int calls = 0;
  CHECK(inbox::handle_once(*db, e, "h", [&](Tx&) { ++calls; }));
  CHECK(calls == 1);
}

TEST_CASE("a failing event does not hold up events of other keys", "[kernel][unit][outbox]") {
  std::atomic<bool> healed{false};
  auto options = fast();
  options.min_backoff = options.max_backoff = std::chrono::milliseconds(50);
  Relayed r([&](int n) { return n == 1 && !healed; }, options);
  std::vector<Event> events = {event(1, "order-a"), event(2, "order-a")};
  for (int i = 3; i <= 10; ++i) events.push_back(event(i, "order-" + std::to_string(i)));
  r.publish(events);
  REQUIRE(eventually([&] { return r.handled().size() == 8; }));  // every other key got through
  const auto early = r.handled();
  CHECK(std::find(early.begin(), early.end(), 2) == early.end());  // order-a's second waits for its first
  healed = true;
  r.drain();
  const auto seen = r.handled();
  const auto one = std::find(seen.begin(), seen.end(), 1), two = std::find(seen.begin(), seen.end(), 2);
  REQUIRE(one != seen.end());
  CHECK(two == one + 1);
}

TEST_CASE("concurrent writers share commits and each keeps its own outcome", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"); });
  std::atomic<int> commits{0};
  db->on_commit([&] { ++commits; });
  std::vector<std::thread> writers;
  std::atomic<int> refused{0};
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        const int n = w * 1000 + i;
        try {
          db->write([&](Tx& tx) {
            tx.statement("INSERT INTO t(n) VALUES(?1)").bind(1, n).run();
            tx.signal_commit();
            if (i % 10 == 9) throw std::runtime_error("refused");  // undoes only this writer's insert
          });
        } catch (const std::runtime_error&) {
          ++refused;
        }
      }
    });
  for (auto& t : writers) t.join();
  std::int64_t rows = 0, refused_rows = 0;
  db->read([&](Tx& tx) {
    rows = test::scalar(tx, "SELECT COUNT(*) FROM t");
    refused_rows = test::scalar(tx, "SELECT COUNT(*) FROM t WHERE n % 10 = 9");
  });
  CHECK(refused == 40);
  CHECK(rows == 360);
  CHECK(refused_rows == 0);
  CHECK(commits <= 360);
}

// A write (of row 0) held open on a thread of its own until release(): the writes that come
// meanwhile queue behind it.
struct HeldWrite {
  std::binary_semaphore inside{0}, go_on{0};
  std::thread thread;
  explicit HeldWrite(Database& db) {
    thread = std::thread([this, &db] {
      db.write([&](Tx& tx) {
        tx.statement("INSERT INTO t(n) VALUES(0)").run();
        tx.signal_commit();
        inside.release();
        go_on.acquire();
      });
    });
    inside.acquire();
  }
  void release() {
    go_on.release();
    thread.join();
  }
  ~HeldWrite() {
    if (thread.joinable()) release();
  }
};

TEST_CASE("writers that come while a write is being committed share the next commit", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"); });
  std::atomic<int> commits{0};
  db->on_commit([&] { ++commits; });
  HeldWrite first(*db);
  std::atomic<int> started{0}, refused{0};
  std::vector<std::thread> writers;
  for (int w = 1; w <= 8; ++w)
    writers.emplace_back([&, w] {
      ++started;
      try {
        db->write([&](Tx& tx) {
          tx.statement("INSERT INTO t(n) VALUES(?1)").bind(1, w).run();
          tx.signal_commit();
          if (w == 5) throw std::runtime_error("refused");  // undoes only this writer's insert
        });
      } catch (const std::runtime_error&) {
        ++refused;
      }
    });
  while (started < 8) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // each is queued by now
  first.release();
  for (auto& t : writers) t.join();
  CHECK(commits == 2);  // the first write's, then one for the eight that queued behind it
  CHECK(refused == 1);
  db->read([](Tx& tx) {
    CHECK(test::scalar(tx, "SELECT COUNT(*) FROM t") == 8);
    CHECK(test::scalar(tx, "SELECT COUNT(*) FROM t WHERE n = 5") == 0);
  });
}

TEST_CASE("write_then answers after the commit, on the committer, and shares commits with waiting writers",
          "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  REQUIRE(db->writes_in_background());
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"); });
  std::atomic<int> commits{0};
  db->on_commit([&] { ++commits; });
  HeldWrite first(*db);  // what comes meanwhile queues behind it
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> answers;  // n, and "ok" or the error, in the order answered
  const auto caller = std::this_thread::get_id();
  bool on_caller = false;
  for (int n = 1; n <= 6; ++n)
    db->write_then(
        [n](Tx& tx) {
          tx.statement("INSERT INTO t(n) VALUES(?1)").bind(1, n).run();
          tx.signal_commit();
          if (n == 4) throw std::runtime_error("refused 4");  // undoes only this one
        },
        [&, n](std::exception_ptr error) {
          std::string outcome = "ok";
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              outcome = e.what();
            }
          }
          std::lock_guard lock(mutex);
          if (std::this_thread::get_id() == caller) on_caller = true;
          answers.emplace_back(n, outcome);
        });
  {
    std::lock_guard lock(mutex);
    CHECK(answers.empty());  // nothing is committed yet: write_then returned without waiting
  }
  std::thread waiting([&] { db->write([](Tx& tx) { tx.statement("INSERT INTO t(n) VALUES(7)").run(); }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // queued by now
  first.release();
  waiting.join();  // its write shared the batch of the six
  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return answers.size() == 6;
  }));
  CHECK(commits == 2);  // the held write's, then one for the six and the waiting writer
  CHECK_FALSE(on_caller);
  CHECK(answers == std::vector<std::pair<int, std::string>>{
                       {1, "ok"}, {2, "ok"}, {3, "ok"}, {4, "refused 4"}, {5, "ok"}, {6, "ok"}});
  db->read([](Tx& tx) {
    CHECK(test::scalar(tx, "SELECT COUNT(*) FROM t") == 7);
    CHECK(test::scalar(tx, "SELECT COUNT(*) FROM t WHERE n = 4") == 0);
  });
}

TEST_CASE("a batch's writers share one transaction, and one that throws is left out while the others run again",
          "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  db->write([](Tx& tx) {
    tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)");
    tx.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)");
    tx.execute("INSERT INTO counter VALUES (1, 0)");
  });
  std::atomic<int> commits{0};
  db->on_commit([&] { ++commits; });
  std::mutex mutex;
  std::map<int, int> runs;                    // how often each writer's work ran
  std::vector<std::pair<int, bool>> answers;  // n, and whether it committed
  auto batch_of_six = [&](std::set<int> refusing) {
    HeldWrite first(*db);  // the six queue behind it and share the next batch
    for (int n = 1; n <= 6; ++n)
      db->write_then(
          [&, n, refusing](Tx& tx) {
            {
              std::lock_guard lock(mutex);
              ++runs[n];
            }
            tx.statement("INSERT INTO t(n) VALUES(?1)").bind(1, n).run();
            tx.statement("UPDATE counter SET total = total + 1 WHERE id = 1").run();
            tx.signal_commit();
            if (refusing.contains(n)) throw std::runtime_error("refused");
          },
          [&, n](std::exception_ptr error) {
            std::lock_guard lock(mutex);
            answers.emplace_back(n, !error);
          });
    first.release();
    REQUIRE(eventually([&] {
      std::lock_guard lock(mutex);
      return answers.size() == 6;
    }));
  };

  SECTION("no writer throws: each work runs once, in one transaction") {
    batch_of_six({});
    CHECK(commits == 2);
    CHECK(runs == std::map<int, int>{{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}});
    CHECK(answers == std::vector<std::pair<int, bool>>{{1, true}, {2, true}, {3, true}, {4, true}, {5, true}, {6, true}});
    db->read([](Tx& tx) {
      CHECK(test::scalar(tx, "SELECT COUNT(*) FROM t") == 7);
      CHECK(test::scalar(tx, "SELECT total FROM counter") == 6);
    });
  }
  SECTION("two throw: the batch runs again without the first, the second is undone in its savepoint") {
    batch_of_six({2, 5});
    CHECK(commits == 2);
    // 1 ran before 2 threw, and again; 2 not again; the rest once, in the second run.
    CHECK(runs == std::map<int, int>{{1, 2}, {2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}});
    CHECK(answers ==
          std::vector<std::pair<int, bool>>{{1, true}, {2, false}, {3, true}, {4, true}, {5, false}, {6, true}});
    db->read([](Tx& tx) {
      CHECK(test::text_scalar(tx, "SELECT group_concat(n, ',') FROM (SELECT n FROM t ORDER BY n)") == "0,1,3,4,6");
      CHECK(test::scalar(tx, "SELECT total FROM counter") == 4);  // the work that committed counted once each
    });
  }
}

TEST_CASE("write_then with no write under way commits at once, and its answer sees the commit", "[kernel][unit]") {
  TempFile file;
  auto db = Database::open(file.path);
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"); });
  std::binary_semaphore answered{0};
  std::int64_t rows_then = -1;
  db->write_then([](Tx& tx) { tx.statement("INSERT INTO t(n) VALUES(1)").run(); },
                 [&](std::exception_ptr error) {
                   CHECK_FALSE(error);
                   // Committed by then: a reader of the file sees it.
                   rows_then = db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM t"); });
                   answered.release();
                 });
  REQUIRE(answered.try_acquire_for(std::chrono::seconds(5)));
  CHECK(rows_then == 1);
}

TEST_CASE("a relay whose every event keeps failing still stops at once", "[kernel][unit][outbox]") {
  auto options = fast();
  options.max_attempts = 1000;
  Relayed r([](int) { return true; }, options);
  std::vector<Event> events;
  for (int i = 1; i <= 300; ++i) events.push_back(event(i, "order-" + std::to_string(i)));
  r.publish(events);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  r.relay->stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(r.relay->backlog() == 300);  // nothing lost, nothing dead-lettered yet
  CHECK(r.handled().empty());
}

namespace {

struct Ping {
  static constexpr std::string_view kType = "test.happened.v1";
  std::int64_t n = 0;
};
void from_json(const nlohmann::json& j, Ping& p) { p.n = j.at("n").get<std::int64_t>(); }

// A relay delivering to handlers that the in-process bus starts (EventHandlers on SQLite): their
// writes go to another database's group commit, and no thread waits for them. The handler records
// each event's key and `n` in that database, and throws instead for those `refuse` picks.
struct Started {
  TempFile outbox_file, handler_file;
  std::unique_ptr<Database> db = Database::open(outbox_file.path);
  std::unique_ptr<Database> handler_db = Database::open(handler_file.path);
  NoTelemetry telemetry;
  std::unique_ptr<EventBus> bus = make_inprocess_bus(telemetry);
  std::unique_ptr<OutboxRelay> relay;

  explicit Started(std::function<bool(std::int64_t)> refuse = {}, RelayOptions options = fast()) {
    outbox::install(*handler_db);
    handler_db->write([](Tx& tx) {
      tx.execute("CREATE TABLE handled (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, n INTEGER NOT NULL)");
    });
    EventHandlers on(*bus, *handler_db, "basket");
    on.handle<Ping>("basket.record", [refuse](Tx& tx, const Ping& p, const Event& e) {
      if (refuse && refuse(p.n)) throw std::runtime_error("refused");
      tx.statement("INSERT INTO handled(key, n) VALUES(?1, ?2)").bind(1, e.key).bind(2, p.n).run();
    });
    bus->start();
    relay = std::make_unique<OutboxRelay>(*db, *bus, "catalog", telemetry, options);
  }
  ~Started() { relay.reset(); }
  void publish(const std::vector<Event>& events) {
    db->write([&](Tx& tx) {
      for (const auto& e : events) outbox::enqueue(tx, e);
    });
  }
  // key -> the n of its events, in the order they were handled.
  std::map<std::string, std::vector<std::int64_t>> handled() {
    return handler_db->read([](Tx& tx) {
      std::map<std::string, std::vector<std::int64_t>> out;
      auto& q = tx.statement("SELECT key, n FROM handled ORDER BY seq");
      while (q.next()) out[q.text(0)].push_back(q.int64(1));
      return out;
    });
  }
  std::int64_t inbox() {
    return handler_db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM inbox"); });
  }
};

}  // namespace

TEST_CASE("started events are delivered once each, in order per key, while keys run on in parallel",
          "[kernel][unit][outbox]") {
  Started s;
  REQUIRE(s.bus->starts(std::string(Ping::kType)) == Start::at_once);
  s.relay->start();
  // 400 events of 8 keys in 40 commits, some while the relay delivers.
  std::map<std::string, std::vector<std::int64_t>> expected;
  for (int commit = 0; commit < 40; ++commit) {
    std::vector<Event> events;
    for (int i = 0; i < 10; ++i) {
      const int n = commit * 10 + i;
      const std::string key = "order-" + std::to_string(n % 8);
      events.push_back(event(n, key));
      expected[key].push_back(n);
    }
    s.publish(events);
  }
  REQUIRE(eventually([&] { return s.relay->backlog() == 0; }));
  s.relay->stop();
  CHECK(s.handled() == expected);
  CHECK(s.inbox() == 400);
}

TEST_CASE("a started event that fails is retried with its attempt counted, and later events of its key wait for it",
          "[kernel][unit][outbox]") {
  std::atomic<int> failures_left{3};
  Started s([&](std::int64_t n) { return n == 1 && failures_left-- > 0; });
  s.relay->start();
  s.publish({event(1, "order-a"), event(2, "order-a"), event(3, "order-b")});
  REQUIRE(eventually([&] { return s.relay->backlog() == 0; }));
  s.relay->stop();
  using Handled = std::map<std::string, std::vector<std::int64_t>>;
  CHECK(s.handled() == Handled{{"order-a", {1, 2}}, {"order-b", {3}}});
  CHECK(failures_left.load() == -1);  // three failures, then the fourth attempt went through
}

TEST_CASE("a started event that keeps failing is dead-lettered after its attempts, and the rest goes on",
          "[kernel][unit][outbox]") {
  auto options = fast();
  options.max_attempts = 3;
  Started s([](std::int64_t n) { return n == 1; }, options);
  s.relay->start();
  s.publish({event(1, "order-a"), event(2, "order-a")});
  REQUIRE(eventually([&] { return s.relay->backlog() == 0; }));
  s.relay->stop();
  CHECK(dead_letters(*s.db) == DeadLetters{1, 3});
  using Handled = std::map<std::string, std::vector<std::int64_t>>;
  CHECK(s.handled() == Handled{{"order-a", {2}}});
}

TEST_CASE("a relay stopped with started events in flight waits for them, and the next start delivers the rest once",
          "[kernel][unit][outbox]") {
  Started s;
  std::vector<Event> events;
  for (int i = 0; i < 600; ++i) events.push_back(event(i, "order-" + std::to_string(i)));
  s.publish(events);
  s.relay->start();
  REQUIRE(eventually([&] { return s.inbox() > 0; }));
  s.relay->stop();  // returns once what was started has settled
  const auto settled = s.inbox();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(s.inbox() == settled);  // nothing still being written after stop()
  s.relay->start();
  REQUIRE(eventually([&] { return s.relay->backlog() == 0; }));
  s.relay->stop();
  CHECK(s.inbox() == 600);
  std::int64_t total = 0;
  for (const auto& [key, ns] : s.handled()) total += static_cast<std::int64_t>(ns.size());
  CHECK(total == 600);
}

TEST_CASE("a commit hands the outbox's new events to the database's sink, in order, without the writers that threw",
          "[kernel][unit][outbox]") {
  TempFile file;
  auto db = Database::open(file.path);
  outbox::install(*db);
  db->write([](Tx& tx) { tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"); });
  std::mutex mutex;
  std::vector<std::pair<long long, std::string>> sunk;  // seq, event id
  db->on_commit_events([&](EnqueuedEvents&& events) {
    std::lock_guard lock(mutex);
    for (const auto& e : events) sunk.emplace_back(e->seq, e->event.id);
  });
  std::vector<std::pair<int, bool>> answers;
  {
    HeldWrite first(*db);  // the six queue behind it and share the next batch
    for (int n = 1; n <= 6; ++n)
      db->write_then(
          [n](Tx& tx) {
            outbox::enqueue(tx, event(n * 10));
            outbox::enqueue(tx, event(n * 10 + 1));
            if (n == 2 || n == 5) throw std::runtime_error("refused");
          },
          [&, n](std::exception_ptr error) {
            std::lock_guard lock(mutex);
            answers.emplace_back(n, !error);
          });
  }
  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return answers.size() == 6;
  }));
  db->write([](Tx& tx) { outbox::enqueue(tx, event(70)); });  // a writer alone, on its own thread
  // Exactly the committed rows, with the seqs the outbox gave them.
  const auto rows = db->read([](Tx& tx) {
    std::vector<std::pair<long long, std::string>> out;
    auto& q = tx.statement("SELECT seq, event_id FROM outbox ORDER BY seq");
    while (q.next()) out.emplace_back(q.int64(0), q.text(1));
    return out;
  });
  std::lock_guard lock(mutex);
  CHECK(sunk == rows);
  std::vector<std::string> ids;
  for (const auto& [seq, id] : sunk) ids.push_back(id);
  CHECK(ids == std::vector<std::string>{"ev-10", "ev-11", "ev-30", "ev-31", "ev-40", "ev-41", "ev-60", "ev-61", "ev-70"});
}

TEST_CASE("a running relay takes committed events as they were enqueued, without reading them back",
          "[kernel][unit][outbox]") {
  TempFile file;
  auto db = Database::open(file.path);
  NoTelemetry telemetry;
  auto bus = make_inprocess_bus(telemetry);
  std::mutex mutex;
  std::vector<std::pair<std::string, TimePoint>> seen;
  bus->subscribe("basket", "test.happened.v1", [&](const Event& e) {
    std::lock_guard lock(mutex);
    seen.emplace_back(e.id, e.time);
  });
  bus->start();
  RelayOptions options = fast();
  options.poll_interval = std::chrono::hours(1);  // no wake-up but the commits'
  OutboxRelay relay(*db, *bus, "catalog", telemetry, options);
  relay.start();
  const auto at = TimePoint(std::chrono::milliseconds(1'700'000'000'123));  // the outbox keeps whole seconds
  auto publish = [&](int n) {
    auto e = event(n);
    e.time = at;
    db->write([&](Tx& tx) { outbox::enqueue(tx, std::move(e)); });
  };
  publish(1);
  REQUIRE(eventually([&] {  // by now the relay has caught up with the outbox, however it found the first
    std::lock_guard lock(mutex);
    return seen.size() == 1;
  }));
  publish(2);
  publish(3);
  REQUIRE(eventually([&] { return relay.backlog() == 0; }));
  relay.stop();
  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == 3);
  CHECK(seen[1] == std::pair<std::string, TimePoint>{"ev-2", at});
  CHECK(seen[2] == std::pair<std::string, TimePoint>{"ev-3", at});
}

TEST_CASE("events committed faster than the relay keeps them in hand are delivered once each, in order",
          "[kernel][unit][outbox]") {
  Relayed r;
  // 5,000 in one commit: more than the relay holds (a window of 1,024 with the lanes and 2,048
  // waiting), so it takes the first from the commit and reads the rest back from the outbox.
  std::vector<Event> first;
  for (int i = 1; i <= 5000; ++i) first.push_back(event(i));
  r.publish(first);
  for (int i = 5001; i <= 5100; ++i) r.publish({event(i)});
  r.drain();
  std::vector<int> expected(5100);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(r.handled() == expected);
}
