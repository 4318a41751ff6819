#include <catch2/catch.hpp>

#include "support/db_query.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

#include <sqlite3.h>
#include <unistd.h>

#include <eshop/database.hpp>

#include "kernel/sqlite_vfs.hpp"

using namespace eshop;

namespace {

const Migration kBlobs[] = {{1, "001_blobs", "CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", {}}};

std::filesystem::path fresh(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("eshop-vfs-" + std::to_string(::getpid()) + "-" + name + ".db");
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p;
}

void remove_db(const std::filesystem::path& p) {
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
}

// `rows` rows of `bytes` characters each, in one transaction.
void insert(Database& db, int rows, int bytes) {
  db.write([&](Tx& tx) {
    for (int i = 0; i < rows; ++i) tx.statement("INSERT INTO blobs(body) VALUES(?1)").bind(1, std::string(bytes, 'x')).run();
  });
}

}  // namespace

TEST_CASE("a commit's WAL frames reach the kernel gathered: writes of up to 124 KiB instead of two per page",
          "[kernel][unit]") {
  const auto path = fresh("gather");
  {
    auto db = Database::open(path.string());
    db->migrate(kBlobs);
    const auto wal = path.string() + "-wal";
    const auto wal_before = static_cast<std::uint64_t>(std::filesystem::file_size(wal));
    const auto before = sqlite_vfs::counts();
    insert(*db, 600, 1000);  // about 150 pages: more than one piece
    const auto after = sqlite_vfs::counts();
    // The commit's frames follow the migration's in the WAL, each 24 + 4096 bytes.
    const auto bytes = static_cast<std::uint64_t>(std::filesystem::file_size(wal)) - wal_before;
    REQUIRE(bytes % (24 + 4096) == 0);
    const auto frames = bytes / (24 + 4096);
    CHECK(frames > 140);
    // SQLite wrote each frame's header and page; the kernel got them gathered into writes of at
    // most 124 KiB, each as full as whole frames' writes make it, the last at the sync.
    CHECK(after.sqlite_writes - before.sqlite_writes == 2 * frames);
    const std::uint64_t most = 124 * 1024;
    std::uint64_t expected = 0, gathered = 0;
    for (std::uint64_t i = 0; i < 2 * frames; ++i) {
      const std::uint64_t n = i % 2 == 0 ? 24 : 4096;
      if (gathered > 0 && gathered + n > most) ++expected, gathered = 0;
      gathered += n;
    }
    if (gathered > 0) ++expected;
    CHECK(after.kernel_writes - before.kernel_writes == expected);
    CHECK(db->read([](Tx& tx) { return test::scalar(tx, "SELECT SUM(LENGTH(body)) FROM blobs"); }) == 600 * 1000);
  }
  remove_db(path);
}

TEST_CASE("what the gathering VFS wrote, plain SQLite reads: every commit, small or past 4 MiB, and after a reopen",
          "[kernel][unit]") {
  const auto path = fresh("plain");
  {
    auto db = Database::open(path.string());
    db->migrate(kBlobs);
    for (int i = 0; i < 50; ++i) insert(*db, 1, 100);  // small commits, each its own sync
    insert(*db, 2500, 2000);  // about 5 MB in one transaction: gathered, written out at 4 MiB and at the sync
    // Another connection on SQLite's default VFS (as the benchmark's and an operator's sqlite3 are)
    // sees every commit while eshop still has the file open.
    sqlite3* plain = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &plain, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(plain, "SELECT COUNT(*), SUM(LENGTH(body)) FROM blobs", -1, &q, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int64(q, 0) == 2550);
    CHECK(sqlite3_column_int64(q, 1) == 50 * 100 + 2500 * 2000);
    sqlite3_finalize(q);
    REQUIRE(sqlite3_prepare_v2(plain, "PRAGMA integrity_check", -1, &q, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "ok");
    sqlite3_finalize(q);
    sqlite3_close(plain);
  }
  // Reopened through the VFS again: the WAL recovered from what was written.
  auto db = Database::open(path.string());
  CHECK(db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM blobs"); }) == 2550);
  db.reset();
  remove_db(path);
}
