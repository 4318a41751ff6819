#pragma once
// The engine under test. ESHOP_TEST_POSTGRES_URL_FILE names a file holding the URL of a private
// PostgreSQL server (tests/CMakeLists.txt starts one as a fixture): then every test database is a
// fresh PostgreSQL database of its own, dropped at the end; without it, SQLite as always.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include <unistd.h>

#include <eshop/database.hpp>

namespace eshop::test {

inline std::string postgres_server_url() {
  const char* file = std::getenv("ESHOP_TEST_POSTGRES_URL_FILE");
  if (!file || !*file) return {};
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) throw std::runtime_error(std::string("no PostgreSQL URL in ") + file + ": is the server started?");
  return url;
}

inline bool on_postgres() { return !postgres_server_url().empty(); }

// A PostgreSQL database of its own for one test (or one test server), dropped when it goes.
class PostgresScratch final {
 public:
  PostgresScratch() : server_(postgres_server_url()) {
    static std::atomic<int> counter{0};
    std::random_device rd;
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + std::to_string(rd() % 100000);
    admin()->read([&](Tx& tx) { tx.execute("CREATE DATABASE " + name_); });
    url_ = server_.substr(0, server_.rfind('/') + 1) + name_;
  }
  ~PostgresScratch() {
    try {
      admin()->read([&](Tx& tx) { tx.execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); });
    } catch (...) {
    }
  }
  PostgresScratch(const PostgresScratch&) = delete;
  PostgresScratch& operator=(const PostgresScratch&) = delete;
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<Database> admin() const { return Database::open(server_, {.schema = {}, .pool_size = 1}); }
  std::string server_, name_, url_;
};

// A module's database for a test: in memory on SQLite (or the given file), else a fresh
// PostgreSQL database in a schema named after the module. Keeps its scratch database alive.
struct TestDatabase {
  std::unique_ptr<PostgresScratch> scratch;
  std::unique_ptr<Database> db;
  Database* operator->() const { return db.get(); }
  Database& operator*() const { return *db; }
  explicit operator bool() const { return db != nullptr; }
  void reset() {
    db.reset();
    scratch.reset();
  }
};

inline TestDatabase open_test_database(const std::string& schema, const std::string& sqlite_location = ":memory:") {
  TestDatabase t;
  if (on_postgres()) {
    t.scratch = std::make_unique<PostgresScratch>();
    t.db = Database::open(t.scratch->url(), {.schema = schema, .pool_size = 4});
  } else {
    t.db = Database::open(sqlite_location);
  }
  return t;
}

}  // namespace eshop::test
