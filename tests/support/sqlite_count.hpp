#pragma once
// Reads a number from one of the server's SQLite files, as an outside observer would.
#include <cstdint>
#include <filesystem>
#include <string>

#include <sqlite3.h>

#include <catch2/catch.hpp>

namespace eshop::test {

inline std::int64_t sqlite_count(const std::filesystem::path& db, const std::string& query) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle, query.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(handle);
  return n;
}

}  // namespace eshop::test
