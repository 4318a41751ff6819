#pragma once
// One module's own database, on SQLite (a file: the zero-setup default) or PostgreSQL (a URL:
// several instances of the shop share it). Every store function takes the Tx its caller's
// read() or write() work was given: the connection, and for write() its transaction, are
// explicit, and the same code runs on both engines.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace eshop {

enum class Engine { sqlite, postgresql };

// An event as outbox::enqueue added it to a transaction's outbox (defined in eshop/outbox.hpp).
struct EnqueuedEvent;
using EnqueuedEvents = std::vector<std::shared_ptr<EnqueuedEvent>>;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;             // may hold several statements
  std::string_view postgresql_sql;  // NNN_name.postgresql.sql when the dialects differ; empty: `sql` on both
};

// A statement prepared once per connection and kept, found by its SQL text (preparing costs more
// than running a short statement). Parameters are ?1, ?2, ... on both engines; columns count
// from 0. Get it from Tx::statement(). Integers are 64-bit on both engines.
class Statement {
 public:
  virtual ~Statement() = default;
  Statement& bind(int index, std::int64_t value) {
    bind_int(index, value);
    return *this;
  }
  template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
  Statement& bind(int index, Integer value) {  // int, long long, ...
    return bind(index, static_cast<std::int64_t>(value));
  }
  Statement& bind(int index, std::string_view value) {  // copied
    bind_text(index, value);
    return *this;
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value) {  // nullopt: NULL
    if (value) return bind(index, std::string_view(*value));
    bind_null(index);
    return *this;
  }
  Statement& bind(int index, const std::optional<std::int64_t>& value) {  // nullopt: NULL
    if (value) return bind(index, *value);
    bind_null(index);
    return *this;
  }
  // Steps once (the first call runs the statement): true when a row is ready to read.
  virtual bool next() = 0;
  // Runs to the end; returns the rows it changed.
  virtual int run() = 0;
  virtual std::int64_t int64(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual bool is_null(int column) const = 0;
  std::optional<std::string> text_or_null(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<std::int64_t> int64_or_null(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
  }

 protected:
  virtual void bind_int(int index, std::int64_t value) = 0;
  virtual void bind_text(int index, std::string_view value) = 0;
  virtual void bind_null(int index) = 0;
};

// The connection a read() or write() work runs on; inside write(), its transaction too. Valid
// only while the work runs, and only on its thread.
class Tx {
 public:
  virtual ~Tx() = default;
  // The statement for `sql` on this connection, prepared at its first use, reset and unbound.
  // Valid until the work returns.
  virtual Statement& statement(std::string_view sql) = 0;
  // Runs `sql` (several statements allowed, no parameters, no rows): DDL and scripts.
  virtual void execute(std::string_view sql) = 0;
  virtual Engine engine() const = 0;
  // Inside write() work: the database's on_commit listeners run once this transaction commits
  // (outbox::enqueue asks for it: the relay's wake-up).
  void signal_commit() { signal_commit_ = true; }
  bool commit_signalled() const { return signal_commit_; }
  void clear_signal() { signal_commit_ = false; }
  // Inside write() work: tells the other processes on this database (instances of the shop on one
  // PostgreSQL database) `payload` on `channel` once this transaction commits, and not if it rolls
  // back. Their Database::listen() handlers get it; this process's do not. A no-op on SQLite,
  // whose file one process owns.
  virtual void notify(std::string_view channel, std::string_view payload) = 0;
  // Inside write() work, where commits hand their events over (SQLite, Database::on_commit_events):
  // the events outbox::enqueue added in this transaction, for the sink once it commits; elsewhere
  // null.
  virtual EnqueuedEvents* enqueued() { return nullptr; }
  // SQLite: the rowid of the last row this connection inserted.
  virtual std::int64_t last_insert_rowid() const { return 0; }

 private:
  bool signal_commit_ = false;
};

// The database was written by a build with more migrations than this one knows.
struct NewerSchema : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// PostgreSQL could not be reached, or the connection broke: the caller answers 503.
struct DatabaseUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DatabaseOptions {
  // The module the database belongs to. On PostgreSQL its tables live in a schema of this name
  // (created at first start), so modules may share one PostgreSQL database and still see only
  // their own tables. Empty: the connection's default schema.
  std::string schema;
  int pool_size = 8;  // PostgreSQL connections kept open
  // SQLite: the thread that writes the group commits runs ahead of the process's other threads
  // (nice -5, where the process may raise a priority), so that writers waiting for a commit do
  // not wait for it to get a core behind the threads the last commit woke. False: the normal
  // priority (ModuleDescriptor::commits_on_order_path says which modules want which).
  bool commits_ahead = true;
};

class Database {
 public:
  // Opens `location`: a postgresql:// (or postgres://) URL, or else a SQLite file, created if
  // needed (":memory:" for an in-memory one).
  static std::unique_ptr<Database> open(const std::string& location, const DatabaseOptions& options = {});
  static bool is_postgresql_url(std::string_view location);
  virtual ~Database() = default;

  // Applies, in order and each in its own transaction, the migrations not yet recorded (on
  // PostgreSQL under a lock, so instances starting together migrate once).
  virtual void migrate(std::span<const Migration> migrations) = 0;
  virtual int schema_version() = 0;
  // SQLite only: copies the whole database, consistently, into a new file at `path` (online
  // backup), holding off this process's writes meanwhile.
  virtual void backup_to(const std::string& path) = 0;

  // Runs `work(Tx&)` in one transaction: it commits when `work` returns and rolls back when it
  // throws (the exception propagates). On SQLite concurrent writers share a commit (group
  // commit: one fsync for a batch, the writers' work one after another in one transaction; when
  // one writer's work throws, the batch is rolled back and the others run again, each in its own
  // savepoint). On PostgreSQL the transaction is SERIALIZABLE and is run again when PostgreSQL
  // reports a serialization failure or deadlock. On both, then, `work` may run more than once
  // and must have no effect outside the database before it returns.
  // `work` must not use this Database again.
  template <class F>
  auto write(F&& work) {
    return run(std::forward<F>(work), &Database::run_write);
  }
  // write() without waiting for the commit: `work(Tx&)` runs in a transaction as in write(), and
  // then `done` runs once, with null when the transaction committed (on disk) and with the
  // exception otherwise (work's own, or the commit's). Where writes_in_background() is true both
  // run later on the thread that commits (which every writer waits for: `done` only hands the
  // result on); elsewhere both run before this returns. `work` must not use this Database again.
  void write_then(std::function<void(Tx&)> work, std::function<void(std::exception_ptr)> done) {
    run_write_then(std::move(work), std::move(done));
  }
  // Whether write_then() returns before its work is done (SQLite: the group commit's committer runs
  // it), so that a caller on an I/O thread may use it.
  virtual bool writes_in_background() const { return false; }
  // Runs `work(Tx&)` outside an explicit transaction on a read connection: on SQLite (WAL) it
  // sees the last commit and neither waits for a writer nor holds one up.
  template <class F>
  auto read(F&& work) {
    return run(std::forward<F>(work), &Database::run_read);
  }
  // `listener` runs after each commit of write() whose work called Tx::signal_commit(), outside
  // any lock. Other commits wake no one.
  void on_commit(std::function<void()> listener);
  // `sink` gets the events each commit added to the outbox (outbox::enqueue), in the order they
  // were added, before the on_commit listeners run: the outbox relay then need not read back what
  // it was just told. It runs on the committing thread, in commit order, while the next commit
  // waits, so it only hands them on. One sink per database (a later one replaces it); SQLite
  // only: on PostgreSQL, where several instances write one outbox, the relay reads it.
  void on_commit_events(std::function<void(EnqueuedEvents&&)> sink);
  // Whether commits feed that sink (SQLite); elsewhere it is never called.
  virtual bool hands_over_events() const { return false; }

  // `handler(payload)` runs on a listener thread for each notify() on `channel` that another
  // process committed. After the listener lost its connection (notifications may have been missed)
  // it runs with the payload "*": refresh everything. Nothing happens on SQLite.
  virtual void listen(const std::string& channel, std::function<void(const std::string& payload)> handler) = 0;
  // Held while the object lives: true for one holder of `name` at a time among the processes on
  // this database (a PostgreSQL advisory lock on a connection of its own, freed if the process
  // dies). Always true on SQLite, whose file one process owns.
  class Lease {
   public:
    virtual ~Lease() = default;
    virtual bool held() = 0;  // tries to take it when not held yet; false while another has it
  };
  virtual std::unique_ptr<Lease> lease(const std::string& name) = 0;

  // A trivial query: is the database usable?
  virtual bool ping() = 0;
  // The file, or the URL without its password.
  const std::string& path() const { return location_; }
  virtual Engine engine() const = 0;

 protected:
  explicit Database(std::string location) : location_(std::move(location)) {}
  virtual void run_write(const std::function<void(Tx&)>& work) = 0;
  virtual void run_read(const std::function<void(Tx&)>& work) = 0;
  // By default: run_write(), then `done`, on the caller's thread.
  virtual void run_write_then(std::function<void(Tx&)> work, std::function<void(std::exception_ptr)> done);
  void committed();
  void hand_over_events(EnqueuedEvents&& events);

  std::string location_;

 private:
  template <class F>
  auto run(F&& work, void (Database::*engine_run)(const std::function<void(Tx&)>&)) {
    using R = decltype(work(std::declval<Tx&>()));
    if constexpr (std::is_void_v<R>) {
      const std::function<void(Tx&)> job = [&](Tx& tx) { work(tx); };
      (this->*engine_run)(job);
    } else {
      std::optional<R> result;
      const std::function<void(Tx&)> job = [&](Tx& tx) { result.emplace(work(tx)); };
      (this->*engine_run)(job);
      return std::move(*result);
    }
  }

 private:
  std::mutex listeners_mutex_;
  std::vector<std::function<void()>> listeners_;
  std::function<void(EnqueuedEvents&&)> events_sink_;  // under listeners_mutex_
};

// A Database::listen() registration that ends with its owner: once the destructor returns no call
// of `handler` runs or starts, so the handler may use the owner's members freely.
class Listening final {
 public:
  Listening(Database& db, const std::string& channel, std::function<void(const std::string& payload)> handler)
      : state_(std::make_shared<State>()) {
    state_->handler = std::move(handler);
    db.listen(channel, [state = state_](const std::string& payload) {
      std::lock_guard lock(state->mutex);
      if (state->handler) state->handler(payload);
    });
  }
  ~Listening() {
    std::lock_guard lock(state_->mutex);
    state_->handler = nullptr;
  }
  Listening(const Listening&) = delete;
  Listening& operator=(const Listening&) = delete;

 private:
  struct State {
    std::mutex mutex;
    std::function<void(const std::string&)> handler;
  };
  std::shared_ptr<State> state_;
};

}  // namespace eshop
