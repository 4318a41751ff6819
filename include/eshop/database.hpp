#pragma once
// One module's own SQLite database: WAL, busy timeout, foreign keys, numbered migrations.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include <soci/soci.h>

namespace eshop {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // may hold several statements
};

// A statement prepared once per connection and kept, found by its SQL text: SQLite's prepare
// costs more than running a short statement, and SOCI prepares anew at every `sql << ...`.
// Parameters are ?1, ?2, ...; columns count from 0. Get it from Database::statement().
class CachedStatement final {
 public:
  CachedStatement& bind(int index, std::int64_t value);
  template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
  CachedStatement& bind(int index, Integer value) {  // int, long long, ...
    return bind(index, static_cast<std::int64_t>(value));
  }
  CachedStatement& bind(int index, std::string_view value);  // copied
  CachedStatement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  CachedStatement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  CachedStatement& bind(int index, const std::optional<std::string>& value);  // nullopt: NULL
  // Steps once: true when a row is ready to read.
  bool next();
  // Steps to the end; returns the rows it changed.
  int run();
  std::int64_t int64(int column) const;
  std::string text(int column) const;
  std::optional<std::string> text_or_null(int column) const;
  bool is_null(int column) const;

  explicit CachedStatement(void* stmt) : stmt_(stmt) {}
  ~CachedStatement();
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

 private:
  friend class Database;
  void reset();
  void* stmt_;  // sqlite3_stmt
};

// The database was written by a build with more migrations than this one knows.
struct NewerSchema : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Database final {
 public:
  // Opens (creating if needed) `path`, or an in-memory database for ":memory:".
  static std::unique_ptr<Database> open(const std::string& path);
  ~Database();

  // Applies, in order and each in its own transaction, the migrations not yet recorded.
  void migrate(std::span<const Migration> migrations);
  int schema_version();
  // Copies the whole database, consistently, into a new file at `path` (SQLite's online backup),
  // holding off this process's writes meanwhile. The copy is a database of its own (no WAL).
  void backup_to(const std::string& path);

  // Runs `work` in one transaction: it commits when `work` returns and rolls back when it
  // throws (the exception propagates). Concurrent writers share a commit (group commit): the
  // first becomes the leader and runs everyone's work, each in its own savepoint, then commits
  // once, so one fsync makes a whole batch durable. `work` must not use this Database again.
  template <class F>
  auto write(F&& work) {
    using R = decltype(work(session_));
    if constexpr (std::is_void_v<R>) {
      const std::function<void(soci::session&)> job = [&](soci::session& s) { work(s); };
      run_in_batch(job);
    } else {
      std::optional<R> result;
      const std::function<void(soci::session&)> job = [&](soci::session& s) { result.emplace(work(s)); };
      run_in_batch(job);
      return std::move(*result);
    }
  }
  // `listener` runs after each commit of write() whose work called signal_commit(), outside the
  // lock: the outbox relay's wake-up, asked for by outbox::enqueue. Other commits wake no one.
  void on_commit(std::function<void()> listener);
  // Inside write() work: the on_commit listeners run once this transaction has committed.
  void signal_commit() { signal_commit_ = true; }
  // Runs `work` outside an explicit transaction on one of the read-only connections: in WAL mode
  // a reader sees the last commit and neither waits for a writer (nor its fsync) nor holds one up.
  // An in-memory database has one connection, so there reads are serialized with writes.
  template <class F>
  auto read(F&& work) {
    if (readers_.empty()) {
      std::lock_guard lock(mutex_);
      const Scope scope(this, session_, prepared_);
      const Settle settle{session_};
      return work(session_);
    }
    Reader& reader = lock_reader();
    std::lock_guard lock(reader.mutex, std::adopt_lock);
    const Scope scope(this, reader.session, reader.prepared);
    const Settle settle{reader.session};
    return work(reader.session);
  }
  // Inside read() or write() work: the statement for `sql` on the connection in use, prepared at
  // its first use, reset and unbound. Valid until the work returns.
  CachedStatement& statement(std::string_view sql);
  // The database whose write() or read() work runs on this thread; throws std::logic_error
  // outside such work.
  static Database& current();

  // A trivial query: is the database usable?
  bool ping();
  const std::string& path() const { return path_; }

 private:
  explicit Database(std::string path);
  using Statements = std::unordered_map<std::type_index, std::shared_ptr<void>>;
  struct InUse {
    Database* db = nullptr;
    soci::session* session = nullptr;
    Statements* prepared = nullptr;
  };
  // The connection whose work runs on this thread (throws outside read() and write() work).
  static const InUse& connection_in_use();
  // Marks this database, and the connection, as current() on this thread while it is in use.
  struct Scope {
    Scope(Database* db, soci::session& session, Statements& prepared);
    ~Scope();
    InUse previous;
  };
  struct Reader {
    std::mutex mutex;
    soci::session session;
    Statements prepared;  // under mutex
    ~Reader() { prepared.clear(); }
  };
  // A free reader if there is one, else the next in turn; returned locked.
  Reader& lock_reader();
  // Resets every statement of the session left mid-result (a prepared one-row SELECT), when work
  // is done: an active statement holds its read snapshot, and SQLite can then never checkpoint the
  // WAL back to the start, which grows without bound.
  static void reset_statements(soci::session& session);
  struct Settle {
    soci::session& session;
    ~Settle() { reset_statements(session); }
  };
  struct Job {
    const std::function<void(soci::session&)>* work;
    std::exception_ptr error;
    bool done = false;
  };
  void exec_script(std::string_view sql);
  void committed();
  void run_in_batch(const std::function<void(soci::session&)>& work);
  void execute(const std::vector<Job*>& batch);

  std::string path_;
  std::mutex mutex_;
  soci::session session_;
  std::mutex batch_mutex_;  // the queue of writers and who leads
  std::condition_variable batch_done_;
  std::vector<Job*> queue_;
  bool leading_ = false;
  Statements prepared_;  // under mutex_
  bool signal_commit_ = false;  // under mutex_
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<unsigned> next_reader_{0};
  std::mutex listeners_mutex_;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace eshop
