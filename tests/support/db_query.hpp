#pragma once
// One number or text out of a query, inside a test's read() or write() work.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <eshop/database.hpp>

namespace eshop::test {

inline std::int64_t scalar(Tx& tx, std::string_view sql) {
  auto& q = tx.statement(sql);
  if (!q.next()) throw std::runtime_error("no row: " + std::string(sql));
  const auto n = q.int64(0);
  while (q.next()) {
  }
  return n;
}

inline std::string text_scalar(Tx& tx, std::string_view sql) {
  auto& q = tx.statement(sql);
  if (!q.next()) throw std::runtime_error("no row: " + std::string(sql));
  auto t = q.text(0);
  while (q.next()) {
  }
  return t;
}

}  // namespace eshop::test
