#pragma once
// One module's own SQLite database: WAL, busy timeout, foreign keys, numbered migrations.
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <soci/soci.h>

namespace eshop {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // may hold several statements
};

class Database final {
 public:
  // Opens (creating if needed) `path`, or an in-memory database for ":memory:".
  static std::unique_ptr<Database> open(const std::string& path);
  ~Database();

  // Applies, in order and each in its own transaction, the migrations not yet recorded.
  void migrate(std::span<const Migration> migrations);
  int schema_version();

  // Runs `work` in one transaction, serialized with every other use of this database;
  // commits when it returns, rolls back when it throws.
  template <class F>
  auto write(F&& work) {
    std::unique_lock lock(mutex_);
    soci::transaction tx(session_);
    if constexpr (std::is_void_v<decltype(work(session_))>) {
      work(session_);
      tx.commit();
      lock.unlock();
      committed();
    } else {
      auto result = work(session_);
      tx.commit();
      lock.unlock();
      committed();
      return result;
    }
  }
  // `listener` runs after every commit of write(), outside the lock (the outbox relay's wake-up).
  void on_commit(std::function<void()> listener);
  // Runs `work` serialized with writes, outside an explicit transaction.
  template <class F>
  auto read(F&& work) {
    std::lock_guard lock(mutex_);
    return work(session_);
  }
  // A trivial query: is the database usable?
  bool ping();
  const std::string& path() const { return path_; }

 private:
  explicit Database(std::string path);
  void exec_script(std::string_view sql);
  void committed();

  std::string path_;
  std::mutex mutex_;
  soci::session session_;
  std::mutex listeners_mutex_;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace eshop
