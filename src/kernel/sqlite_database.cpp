#include "kernel/sqlite_database.hpp"
#include "kernel/sqlite_vfs.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sqlite3.h>

namespace eshop {

namespace {

// Read-only connections per database file: enough for the worker pool's reads to rarely wait.
constexpr int kReaders = 4;

class SqliteStatement final : public Statement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bool next() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string message = sqlite3_errmsg(sqlite3_db_handle(stmt_));
    sqlite3_reset(stmt_);
    throw std::runtime_error("sqlite: " + message);
  }
  int run() override {
    while (next()) {
    }
    return sqlite3_changes(sqlite3_db_handle(stmt_));
  }
  std::int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 protected:
  void bind_int(int index, std::int64_t value) override { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind_text(int index, std::string_view value) override {
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void bind_null(int index) override { check(sqlite3_bind_null(stmt_, index)); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(fmt::format("sqlite: {}", sqlite3_errmsg(sqlite3_db_handle(stmt_))));
  }
  sqlite3_stmt* stmt_;
};

// Before SQLite's first use: no global memory statistics. With them on (the default) every
// allocation SQLite makes, on every connection of every thread, takes one process-wide mutex, and
// nothing here reads the statistics or sets a soft heap limit. (If SQLite was already initialized,
// sqlite3_config refuses and the defaults stay: slower, not wrong.)
void configure_sqlite_once() {
  static const int configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }();
  (void)configured;
}

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, bool reader) {
  configure_sqlite_once();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, sqlite_vfs::name()) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error(message);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    execute("PRAGMA foreign_keys = ON");
    // Temporary b-trees and the savepoint sub-journal (a batch run again after a writer's failure
    // has a savepoint per writer) in memory: they only serve a transaction in progress, never
    // durability.
    execute("PRAGMA temp_store = MEMORY");
    if (reader) {
      execute("PRAGMA query_only = 1");  // every write goes through write()
      // 1 MiB of page cache each (the writer keeps SQLite's 2 MiB): the hot pages are shared
      // through the OS's cache anyway, and memory stays bounded as the files grow.
      execute("PRAGMA cache_size = -1024");
    } else {
      execute("PRAGMA synchronous = FULL");
    }
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();  // statements go before the connection they belong to
  sqlite3_close(db_);
}

void SqliteConnection::execute(std::string_view sql) {
  char* message = nullptr;
  const std::string script(sql);
  if (sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

Statement& SqliteConnection::statement(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
        SQLITE_OK)
      throw std::runtime_error(fmt::format("sqlite: {}: {}", sqlite3_errmsg(db_), sql));
    it = cache_.emplace(std::string(sql), std::make_unique<SqliteStatement>(st)).first;
  }
  static_cast<SqliteStatement&>(*it->second).reset();
  return *it->second;
}

void SqliteConnection::reset_statements() {
  for (auto* st = sqlite3_next_stmt(db_, nullptr); st; st = sqlite3_next_stmt(db_, st))
    if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
}

bool SqliteConnection::in_transaction() const { return !sqlite3_get_autocommit(db_); }

SqliteDatabase::SqliteDatabase(const std::string& path, bool commits_ahead) : Database(path), commits_ahead_(commits_ahead) {
  // Another process may hold the file for a moment (a shared ledger, a second eshop starting):
  // opening retries for up to 10 s rather than failing at once.
  for (int attempt = 0;; ++attempt) {
    try {
      writer_ = std::make_unique<SqliteConnection>(path, false);
      if (path != ":memory:") {
        auto& mode = writer_->statement("PRAGMA journal_mode = WAL");
        if (!mode.next() || mode.text(0) != "wal") throw std::runtime_error(fmt::format("{}: could not enable WAL", path));
        writer_->reset_statements();
        for (int i = 0; i < kReaders; ++i) {
          auto reader = std::make_unique<Reader>();
          reader->connection = std::make_unique<SqliteConnection>(path, true);
          readers_.push_back(std::move(reader));
        }
        checkpointer_ = std::make_unique<SqliteConnection>(path, false);
        sqlite3_wal_hook(writer_->handle(), &SqliteDatabase::on_wal_commit, this);
        checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
      }
      committer_ = std::thread([this] { commit_loop(); });
      return;
    } catch (const std::runtime_error& e) {
      checkpointer_.reset();
      readers_.clear();
      writer_.reset();
      if (attempt >= 200 || std::string(e.what()).find("locked") == std::string::npos) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

SqliteDatabase::~SqliteDatabase() {
  {
    std::lock_guard lock(batch_mutex_);  // no write runs now: a database ends after its users
    stop_committer_ = true;
  }
  handed_over_.notify_one();
  committer_.join();
  if (!checkpoint_thread_.joinable()) return;
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wanted_.notify_one();
  checkpoint_thread_.join();
}

namespace {
// The background thread is asked from here: 8,000 pages (32 MiB of WAL at 4 KiB), not SQLite's
// 1,000. A checkpoint copies each page changed since the last once, however often it changed, and
// the hot pages of a busy module (the newest orders, the right edges of its indexes) change in
// nearly every batch: during checkout, ordering's checkpoints copied 1.7 pages per order at 1,000
// and 0.7 at 8,000 (a read and a write system call each). The WAL's file grows to about 32 MiB per
// database; a restart replays at most that.
constexpr int kCheckpointPages = 8000;
// Should the background thread fall this far behind (a reader holding an old snapshot, a slow
// disk), the committing writer checkpoints itself, as SQLite would, so the WAL stays bounded.
constexpr int kInlineCheckpointPages = 20000;
}  // namespace

int SqliteDatabase::on_wal_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& d = *static_cast<SqliteDatabase*>(self);
  if (pages >= kInlineCheckpointPages) {
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages) {
    {
      std::lock_guard lock(d.checkpoint_mutex_);
      d.checkpoint_due_ = true;
    }
    d.checkpoint_wanted_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteDatabase::checkpoint_loop() {
  // "ckpt-" and the file's stem, so top -H and perf tell the checkpoints from the workers.
  const std::string stem = std::filesystem::path(location_).stem().string();
  pthread_setname_np(pthread_self(), ("ckpt-" + stem.substr(0, 10)).c_str());
  std::unique_lock lock(checkpoint_mutex_);
  while (true) {
    checkpoint_wanted_.wait(lock, [&] { return stopping_ || checkpoint_due_; });
    if (stopping_) return;
    checkpoint_due_ = false;
    lock.unlock();
    // Passive: copies what no reader still needs, waits for no one; what it cannot copy is tried
    // again at the next commit past the threshold. The bulk is copied beside the writer; then, with
    // the writer held between two batches, the few pages committed meanwhile, so that the WAL is
    // all copied and the next batch writes it from its start again (SQLite starts over only then;
    // otherwise the WAL would grow for as long as writes go on).
    sqlite3_wal_checkpoint_v2(checkpointer_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    {
      std::lock_guard writer(mutex_);
      sqlite3_wal_checkpoint_v2(checkpointer_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    lock.lock();
  }
}

void SqliteDatabase::migrate(std::span<const Migration> migrations) {
  std::lock_guard lock(mutex_);
  auto& w = *writer_;
  w.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))");
  int current = 0;
  {
    auto& q = w.statement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q.next()) current = static_cast<int>(q.int64(0));
    w.reset_statements();
  }
  // A database written by a newer build (a module moved in from a newer process, or a downgrade):
  // its tables may mean what this build does not know. Refuse it rather than guess.
  if (!migrations.empty() && current > migrations.back().version)
    throw NewerSchema(fmt::format("{} has schema version {}, newer than this build knows ({})", location_, current,
                                  migrations.back().version));
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    w.execute("BEGIN IMMEDIATE");
    try {
      try {
        w.execute(m.sql);
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: migration {} failed: {}", location_, m.name, e.what()));
      }
      w.statement("INSERT INTO schema_migrations(version, name) VALUES(?1, ?2)").bind(1, m.version).bind(2, m.name).run();
      w.execute("COMMIT");
    } catch (...) {
      w.reset_statements();
      if (w.in_transaction()) w.execute("ROLLBACK");
      throw;
    }
    current = m.version;
  }
}

void SqliteDatabase::backup_to(const std::string& path) {
  std::lock_guard lock(mutex_);  // no write of this process starts meanwhile
  sqlite3* target = nullptr;
  if (sqlite3_open(path.c_str(), &target) != SQLITE_OK) {
    const std::string message = target ? sqlite3_errmsg(target) : "out of memory";
    sqlite3_close(target);
    throw std::runtime_error(fmt::format("cannot create {}: {}", path, message));
  }
  auto* backup = sqlite3_backup_init(target, "main", writer_->handle(), "main");
  int rc = backup ? sqlite3_backup_step(backup, -1) : sqlite3_errcode(target);
  if (backup) sqlite3_backup_finish(backup);
  const std::string message = sqlite3_errmsg(target);
  sqlite3_close(target);
  if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("backup of {} to {} failed: {}", location_, path, message));
}

int SqliteDatabase::schema_version() {
  std::lock_guard lock(mutex_);
  auto& q = writer_->statement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  const int v = q.next() ? static_cast<int>(q.int64(0)) : 0;
  writer_->reset_statements();
  return v;
}

std::int64_t SqliteConnection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

bool SqliteDatabase::ping() {
  try {
    std::lock_guard lock(mutex_);
    auto& q = writer_->statement("SELECT 1");
    const bool ok = q.next() && q.int64(0) == 1;
    writer_->reset_statements();
    return ok;
  } catch (const std::exception&) {
    return false;
  }
}

SqliteDatabase::Reader& SqliteDatabase::lock_reader() {
  const auto n = readers_.size();
  const auto first = next_reader_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    auto& r = *readers_[(first + i) % n];
    if (r.mutex.try_lock()) return r;
  }
  auto& r = *readers_[first % n];
  r.mutex.lock();
  return r;
}

void SqliteDatabase::run_read(const std::function<void(Tx&)>& work) {
  // An in-memory database has one connection, so there reads are serialized with writes.
  if (readers_.empty()) {
    std::lock_guard lock(mutex_);
    struct Settle {
      SqliteConnection& c;
      ~Settle() { c.reset_statements(); }
    } settle{*writer_};
    work(*writer_);
    return;
  }
  Reader& reader = lock_reader();
  std::lock_guard lock(reader.mutex, std::adopt_lock);
  struct Settle {
    SqliteConnection& c;
    ~Settle() { c.reset_statements(); }
  } settle{*reader.connection};
  work(*reader.connection);
}

namespace {
long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value, std::uint32_t bits) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, bits);
}
std::uint32_t bit_of(std::uint32_t batch) { return 1u << (batch % 32); }
}  // namespace

void SqliteDatabase::wait_for_batch(const Job& job) {
  while (true) {
    const std::uint32_t committed = committed_.load(std::memory_order_acquire);
    if (static_cast<std::int32_t>(committed - job.batch) >= 0) return;
    // Sleeps unless the word moved meanwhile (EAGAIN: look again).
    futex(committed_, FUTEX_WAIT_BITSET_PRIVATE, committed, bit_of(job.batch));
  }
}

// Group commit. A writer that finds no batch being written writes its own work at once, on its
// own thread: a lone write costs no thread hand-off. Writers that come meanwhile queue, and the
// committer thread writes them, all in one batch (one fsync), and then each batch that queued while
// the last was written, with no gap in between, until the queue is empty. (Leadership handed from
// waiter to waiter instead left a gap of about half a batch's time on two cores: the next leader
// queued for a core behind every writer the last batch woke.)
void SqliteDatabase::run_write(const std::function<void(Tx&)>& work) {
  Job job(&work);
  std::unique_lock lock(batch_mutex_);
  if (writing_) {
    job.batch = batches_taken_ + 1;  // the committer's next
    queue_.push_back(&job);
    lock.unlock();
    wait_for_batch(job);
  } else {
    writing_ = true;
    lock.unlock();
    std::vector<Job*> alone{&job};
    execute(alone);  // never throws: the error is in the job
    lock.lock();
    if (queue_.empty()) {
      writing_ = false;
    } else {
      handover_ = true;  // writing_ stays true: the committer's now
      handed_over_.notify_one();
    }
    lock.unlock();
  }
  if (job.error) std::rethrow_exception(job.error);
}

// No writer waits: the job goes to the committer, which runs `done` after the batch's commit.
void SqliteDatabase::run_write_then(std::function<void(Tx&)> work, std::function<void(std::exception_ptr)> done) {
  auto job = std::make_unique<Job>(nullptr);
  job->owned_work = std::move(work);
  job->work = &job->owned_work;
  job->done = std::move(done);
  std::unique_lock lock(batch_mutex_);
  if (stop_committer_) {
    lock.unlock();
    job->done(std::make_exception_ptr(std::runtime_error(location_ + ": the database is closing")));
    return;
  }
  queue_.push_back(job.release());
  if (writing_) return;  // the one writing hands the queue to the committer when it is done
  writing_ = true;
  handover_ = true;
  lock.unlock();
  handed_over_.notify_one();
}

void SqliteDatabase::commit_loop() {
  // "db-" and the file's name without its directory and suffix (a thread name has 15 characters).
  const std::string stem = std::filesystem::path(location_).stem().string();
  pthread_setname_np(pthread_self(), ("db-" + stem.substr(0, 12)).c_str());
  if (commits_ahead_) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -5);  // refused unless allowed: then as any thread
  std::vector<Job*> batch, answered;
  std::unique_lock lock(batch_mutex_);
  while (true) {
    handed_over_.wait(lock, [&] { return handover_ || stop_committer_; });
    if (!handover_) return;
    handover_ = false;
    while (!queue_.empty()) {
      batch.swap(queue_);
      const std::uint32_t number = ++batches_taken_;
      lock.unlock();
      execute(batch);  // never throws: each job's error is in the job
      bool waited_for = false;
      for (auto* job : batch) {
        if (job->done) answered.push_back(job);
        else waited_for = true;
      }
      batch.clear();
      // The batch's writers may return (and their jobs end) from here on.
      committed_.store(number, std::memory_order_release);
      if (waited_for) futex(committed_, FUTEX_WAKE_BITSET_PRIVATE, INT32_MAX, bit_of(number));
      for (auto* job : answered) {
        const std::unique_ptr<Job> owned(job);
        try {
          job->done(job->error);
        } catch (...) {
          // `done` hands a result on and does not throw; nothing here could answer for it
        }
      }
      answered.clear();
      lock.lock();
    }
    writing_ = false;
  }
}

// A batch is one transaction. Its jobs run one after another with no savepoint between them: a
// savepoint per job cost two statements and a copy of every page the job touched into the
// sub-journal (about 15 % of an order's CPU). When a job throws, the transaction is rolled back
// and the batch runs again without it, each of the others then in its own savepoint, so one
// writer's failure never undoes another's work. The jobs before it so run twice, which work
// allows (Database::write: PostgreSQL runs work again on a serialization failure too).
void SqliteDatabase::execute(const std::vector<Job*>& batch) {
  bool any_committed = false, signal = false;
  {
    std::lock_guard lock(mutex_);
    auto& w = *writer_;
    w.clear_signal();
    // The outbox's new rows, kept for the relay when it takes them (on_commit_events); dropped with
    // whatever rolls back.
    auto& enqueued = *w.enqueued();
    enqueued.clear();
    try {
      // IMMEDIATE: the write lock is taken (waiting out another process's writer, up to the busy
      // timeout) before anything is read; a deferred BEGIN that read first fails at once with
      // SQLITE_BUSY when another process wrote in between (a shared ledger in the split topology).
      w.statement("BEGIN IMMEDIATE").run();
      Job* failed = nullptr;
      for (auto* job : batch) {
        try {
          (*job->work)(w);
        } catch (...) {
          job->error = std::current_exception();
          failed = job;
          break;
        }
      }
      if (failed && batch.size() > 1) {
        w.reset_statements();
        if (w.in_transaction()) w.statement("ROLLBACK").run();
        w.clear_signal();
        enqueued.clear();
        w.statement("BEGIN IMMEDIATE").run();
        for (auto* job : batch) {
          if (job == failed) continue;
          w.statement("SAVEPOINT job").run();
          const auto kept = enqueued.size();
          try {
            (*job->work)(w);
            w.reset_statements();  // a statement left stepping would fail the release
            w.statement("RELEASE job").run();
          } catch (...) {
            job->error = std::current_exception();
            enqueued.resize(kept);
            w.reset_statements();
            w.statement("ROLLBACK TO job").run();
            w.statement("RELEASE job").run();
          }
        }
      }
      w.reset_statements();
      any_committed = std::any_of(batch.begin(), batch.end(), [](const Job* j) { return !j->error; });
      if (any_committed) w.statement("COMMIT").run();
      else if (w.in_transaction()) w.statement("ROLLBACK").run();
      signal = w.commit_signalled();
      // Under the writer's lock, so that the sink gets each commit's events in commit order.
      if (any_committed && !enqueued.empty()) hand_over_events(std::move(enqueued));
    } catch (...) {  // BEGIN or COMMIT failed: nothing of the batch was written
      any_committed = false;
      for (auto* job : batch)
        if (!job->error) job->error = std::current_exception();
      try {
        w.reset_statements();
        if (w.in_transaction()) w.statement("ROLLBACK").run();
      } catch (...) {
        // the connection is unusable; the next BEGIN reports it
      }
    }
    w.clear_signal();
    enqueued.clear();
  }
  if (!any_committed || !signal) return;
  try {
    committed();
  } catch (...) {
    // a wake-up lost: the relay's poll finds the rows; the writers waiting on this batch must not
  }
}

}  // namespace eshop
