#include <catch2/catch.hpp>

#include <filesystem>

#include <unistd.h>

#include <eshop/database.hpp>

using namespace eshop;

namespace {

const Migration kMigrations[] = {
    {1, "001_init", "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO things(name) VALUES('a');"},
    {2, "002_more", "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"},
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
  int rows = 0, recorded = 0;
  db->read([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM things", soci::into(rows);
    sql << "SELECT COUNT(*) FROM schema_migrations", soci::into(recorded);
  });
  CHECK(rows == 1);
  CHECK(recorded == 2);
  std::string mode;
  db->read([&](soci::session& sql) { sql << "PRAGMA journal_mode", soci::into(mode); });
  CHECK(mode == "wal");
  int fk = 0;
  db->read([&](soci::session& sql) { sql << "PRAGMA foreign_keys", soci::into(fk); });
  CHECK(fk == 1);
  db.reset();
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST_CASE("a failing migration leaves the schema at the last good version", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  const Migration bad[] = {kMigrations[0], {2, "002_broken", "ALTER TABLE nope ADD COLUMN x INTEGER;"}};
  CHECK_THROWS_WITH(db->migrate(bad), Catch::Contains("002_broken"));
  CHECK(db->schema_version() == 1);
}

TEST_CASE("a write that throws is rolled back", "[kernel][unit]") {
  auto db = Database::open(":memory:");
  db->migrate(kMigrations);
  CHECK_THROWS(db->write([](soci::session& sql) {
    sql << "INSERT INTO things(name) VALUES('b')";
    throw std::runtime_error("changed my mind");
  }));
  int rows = 0;
  db->read([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM things", soci::into(rows); });
  CHECK(rows == 1);
  CHECK(db->ping());
}
