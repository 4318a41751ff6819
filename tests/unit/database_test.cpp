#include <catch2/catch.hpp>

#include "support/db_query.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <eshop/database.hpp>

using namespace eshop;

namespace {

const Migration kMigrations[] = {
    {1, "001_init", "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO things(name) VALUES('a');", {}},
    {2, "002_more", "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;", {}},
};

std::filesystem::path temp_db() {
  auto p = std::filesystem::temp_directory_path() / ("eshop-db-test-" + std::to_string(::getpid()) + ".db");
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p;
}

}  // namespace

TEST_CASE("migrations run once, in order, and are recorded", "[kernel][unit]") {
  const auto path = temp_db();
  {
    auto db = Database::open(path.string());
    db->migrate(kMigrations);
    CHECK(db->schema_version() == 2);
  }
  auto db = Database::open(path.string());
  db->migrate(kMigrations);  // again: nothing re-runs, so no duplicate row
  std::int64_t rows = 0, recorded = 0;
  db->read([&](Tx& tx) {
    rows = test::scalar(tx, "SELECT COUNT(*) FROM things");
    recorded = test::scalar(tx, "SELECT COUNT(*) FROM schema_migrations");
  });
  CHECK(rows == 1);
  CHECK(recorded == 2);
  const auto mode = db->read([](Tx& tx) { return test::text_scalar(tx, "PRAGMA journal_mode"); });
  CHECK(mode == "wal");
  const auto fk = db->read([](Tx& tx) { return test::scalar(tx, "PRAGMA foreign_keys"); });
  CHECK(fk == 1);
  db.reset();
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST_CASE("a failing migration leaves the schema at the last good version", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  const Migration bad[] = {kMigrations[0], {2, "002_broken", "ALTER TABLE nope ADD COLUMN x INTEGER;", {}}};
  CHECK_THROWS_WITH(db->migrate(bad), Catch::Contains("002_broken"));
  CHECK(db->schema_version() == 1);
}

TEST_CASE("a write that throws is rolled back", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  db->migrate(kMigrations);
  CHECK_THROWS(db->write([](Tx& tx) {
    tx.execute("INSERT INTO things(name) VALUES('b')");
    throw std::runtime_error("changed my mind");
  }));
  const auto rows = db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM things"); });
  CHECK(rows == 1);
  CHECK(db->ping());
}

TEST_CASE("prepared reads left mid-result do not stop the WAL from being checkpointed", "[kernel][unit]") {
  const auto path = temp_db();
  {
    auto db = Database::open(path.string());
    db->migrate(kMigrations);
    const std::string big(3000, 'x');  // about a page per row
    for (int i = 0; i < 1280; ++i) {
      db->write([&](Tx& tx) {  // 25 pages a commit
        for (int row = 0; row < 25; ++row) tx.statement("INSERT INTO things(name) VALUES(?1)").bind(1, big).run();
      });
      db->read([&](Tx& tx) {  // a one-row SELECT, left on its row
        auto& q = tx.statement("SELECT name FROM things WHERE id = ?1");
        q.bind(1, 1);
        REQUIRE(q.next());
        return q.text(0);
      });
    }
    // The WAL is checkpointed every 8,000 pages by a thread of its own and then written from its
    // start again; should that thread fall behind (as it may, at these writes' pace), the writer
    // checkpoints itself at 20,000, so the file never passes about 83 MB. With the read snapshot
    // held it would hold all 32,000 pages (over 130 MB).
    CHECK(std::filesystem::file_size(path.string() + "-wal") < 100 * 1024 * 1024);
  }
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST_CASE("cached statements bind, step, read columns and are reused", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  db->migrate(kMigrations);
  const char* insert = "INSERT INTO things(name, size) VALUES(?1, ?2)";
  db->write([&](Tx& tx) {
    CHECK(tx.statement(insert).bind(1, "b").bind(2, 7).run() == 1);
    CHECK(tx.statement(insert).bind(1, std::string("c")).bind(2, std::int64_t{9}).run() == 1);
  });
  CHECK_THROWS(db->write([&](Tx& tx) {
    tx.statement(insert).bind(1, std::optional<std::string>{}).bind(2, 1).run();  // name is NOT NULL
  }));
  const auto rows = db->read([&](Tx& tx) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto& q = tx.statement("SELECT name, size FROM things WHERE size >= ?1 ORDER BY id");
    q.bind(1, 1);
    while (q.next()) out.emplace_back(q.text(0), q.int64(1));
    CHECK(&q == &tx.statement("SELECT name, size FROM things WHERE size >= ?1 ORDER BY id"));  // the same one
    return out;
  });
  CHECK(rows == std::vector<std::pair<std::string, std::int64_t>>{{"b", 7}, {"c", 9}});
}
