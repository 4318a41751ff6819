#include <eshop/database.hpp>
#include <eshop/module.hpp>
#include <eshop/text_hash.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace eshop {

std::unique_ptr<Database> Database::open(const std::string& path) {
  return std::unique_ptr<Database>(new Database(path));
}

namespace {
// Read-only connections per database file: enough for the worker pool's reads to rarely wait.
constexpr int kReaders = 4;
}  // namespace

Database::Database(std::string path) : path_(std::move(path)) {
  // Another process may hold the file for a moment (a shared ledger, a second eshop starting):
  // opening retries for up to 10 s rather than failing at once.
  for (int attempt = 0;; ++attempt) {
    try {
      // Busy timeout in seconds for SOCI's sqlite3 backend.
      session_.open(soci::sqlite3, fmt::format("db={} timeout=5 synchronous=full", path_));
      session_ << "PRAGMA foreign_keys = ON";
      // Temporary b-trees and the savepoint sub-journal (group commit opens a savepoint per
      // writer) in memory: they only serve a transaction in progress, never durability, and on
      // disk each savepoint copied every page it touched to a file in /var/tmp.
      session_ << "PRAGMA temp_store = MEMORY";
      if (path_ != ":memory:") {
        std::string mode;
        session_ << "PRAGMA journal_mode = WAL", soci::into(mode);
        if (mode != "wal") throw std::runtime_error(fmt::format("{}: could not enable WAL", path_));
        for (int i = 0; i < kReaders; ++i) {
          auto reader = std::make_unique<Reader>();
          reader->session.open(soci::sqlite3, fmt::format("db={} timeout=5", path_));
          reader->session << "PRAGMA foreign_keys = ON";
          reader->session << "PRAGMA temp_store = MEMORY";
          reader->session << "PRAGMA query_only = 1";  // every write goes through write()
          // 1 MiB of page cache each (the writer keeps SQLite's 2 MiB): the hot pages are shared
          // through the OS's cache anyway, and memory stays bounded as the files grow.
          reader->session << "PRAGMA cache_size = -1024";
          readers_.push_back(std::move(reader));
        }
      }
      return;
    } catch (const soci::soci_error& e) {
      if (attempt >= 200 || std::string(e.what()).find("locked") == std::string::npos) throw;
      readers_.clear();
      if (session_.is_connected()) session_.close();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

Database::~Database() {
  prepared_.clear();  // statements go before the session they belong to
}

void Database::exec_script(std::string_view sql) {
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session_.get_backend());
  char* message = nullptr;
  const std::string script(sql);
  if (sqlite_api::sqlite3_exec(backend->conn_, script.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite_api::sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

void Database::migrate(std::span<const Migration> migrations) {
  std::lock_guard lock(mutex_);
  session_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
              "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))";
  int current = 0;
  soci::indicator ind;
  session_ << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
  if (ind != soci::i_ok) current = 0;
  // A database written by a newer build (a module moved in from a newer process, or a downgrade):
  // its tables may mean what this build does not know. Refuse it rather than guess.
  if (!migrations.empty() && current > migrations.back().version)
    throw NewerSchema(fmt::format("{} has schema version {}, newer than this build knows ({})", path_, current,
                                  migrations.back().version));
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    soci::transaction tx(session_);
    try {
      exec_script(m.sql);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}: migration {} failed: {}", path_, m.name, e.what()));
    }
    const std::string name(m.name);
    session_ << "INSERT INTO schema_migrations(version, name) VALUES(:v, :n)", soci::use(m.version), soci::use(name);
    tx.commit();
    current = m.version;
  }
}

void Database::backup_to(const std::string& path) {
  std::lock_guard lock(mutex_);  // no write of this process starts meanwhile
  sqlite_api::sqlite3* target = nullptr;
  if (sqlite_api::sqlite3_open(path.c_str(), &target) != SQLITE_OK) {
    const std::string message = target ? sqlite_api::sqlite3_errmsg(target) : "out of memory";
    sqlite_api::sqlite3_close(target);
    throw std::runtime_error(fmt::format("cannot create {}: {}", path, message));
  }
  auto* source = static_cast<soci::sqlite3_session_backend*>(session_.get_backend())->conn_;
  auto* backup = sqlite_api::sqlite3_backup_init(target, "main", source, "main");
  int rc = backup ? sqlite_api::sqlite3_backup_step(backup, -1) : sqlite_api::sqlite3_errcode(target);
  if (backup) sqlite_api::sqlite3_backup_finish(backup);
  const std::string message = sqlite_api::sqlite3_errmsg(target);
  sqlite_api::sqlite3_close(target);
  if (rc != SQLITE_DONE) throw std::runtime_error(fmt::format("backup of {} to {} failed: {}", path_, path, message));
}

int Database::schema_version() {
  std::lock_guard lock(mutex_);
  int v = 0;
  soci::indicator ind;
  session_ << "SELECT MAX(version) FROM schema_migrations", soci::into(v, ind);
  return ind == soci::i_ok ? v : 0;
}

namespace {
thread_local void* in_use_slot = nullptr;  // the Database::InUse of this thread
}  // namespace

Database::Scope::Scope(Database* db, soci::session& session, Statements& prepared) {
  thread_local InUse slot;
  in_use_slot = &slot;
  previous = slot;
  slot = {db, &session, &prepared};
}
Database::Scope::~Scope() { *static_cast<InUse*>(in_use_slot) = previous; }
Database& Database::current() { return *connection_in_use().db; }

const Database::InUse& Database::connection_in_use() {
  auto* in_use = static_cast<InUse*>(in_use_slot);
  if (!in_use || !in_use->db) throw std::logic_error("a database statement used outside read() or write() work");
  return *in_use;
}

Database::Reader& Database::lock_reader() {
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

namespace {

sqlite_api::sqlite3* connection_of(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
}

// A connection's cached statements, kept in its prepared-statement map under this type.
struct StatementCache {
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>, TextHash, std::equal_to<>> by_text;
};

sqlite_api::sqlite3_stmt* raw(void* p) { return static_cast<sqlite_api::sqlite3_stmt*>(p); }

void check(int rc, sqlite_api::sqlite3_stmt* st) {
  if (rc != SQLITE_OK)
    throw std::runtime_error(fmt::format("sqlite: {}", sqlite_api::sqlite3_errmsg(sqlite_api::sqlite3_db_handle(st))));
}

}  // namespace

CachedStatement::~CachedStatement() { sqlite_api::sqlite3_finalize(raw(stmt_)); }

void CachedStatement::reset() {
  sqlite_api::sqlite3_reset(raw(stmt_));
  sqlite_api::sqlite3_clear_bindings(raw(stmt_));
}

CachedStatement& CachedStatement::bind(int index, std::int64_t value) {
  check(sqlite_api::sqlite3_bind_int64(raw(stmt_), index, value), raw(stmt_));
  return *this;
}
CachedStatement& CachedStatement::bind(int index, std::string_view value) {
  check(sqlite_api::sqlite3_bind_text(raw(stmt_), index, value.data(), static_cast<int>(value.size()),
                                      reinterpret_cast<sqlite_api::sqlite3_destructor_type>(-1)),  // SQLITE_TRANSIENT
        raw(stmt_));
  return *this;
}
CachedStatement& CachedStatement::bind(int index, const std::optional<std::string>& value) {
  if (value) return bind(index, std::string_view(*value));
  check(sqlite_api::sqlite3_bind_null(raw(stmt_), index), raw(stmt_));
  return *this;
}

bool CachedStatement::next() {
  const int rc = sqlite_api::sqlite3_step(raw(stmt_));
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string message = sqlite_api::sqlite3_errmsg(sqlite_api::sqlite3_db_handle(raw(stmt_)));
  sqlite_api::sqlite3_reset(raw(stmt_));
  throw std::runtime_error("sqlite: " + message);
}

int CachedStatement::run() {
  while (next()) {
  }
  return sqlite_api::sqlite3_changes(sqlite_api::sqlite3_db_handle(raw(stmt_)));
}

std::int64_t CachedStatement::int64(int column) const { return sqlite_api::sqlite3_column_int64(raw(stmt_), column); }
std::string CachedStatement::text(int column) const {
  const auto* p = sqlite_api::sqlite3_column_text(raw(stmt_), column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(raw(stmt_), column)))
           : std::string();
}
std::optional<std::string> CachedStatement::text_or_null(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}
bool CachedStatement::is_null(int column) const {
  return sqlite_api::sqlite3_column_type(raw(stmt_), column) == SQLITE_NULL;
}

CachedStatement& Database::statement(std::string_view sql) {
  const auto& in_use = connection_in_use();
  if (in_use.db != this) throw std::logic_error("Database::statement() outside this database's work");
  auto& slot = (*in_use.prepared)[std::type_index(typeid(StatementCache))];
  if (!slot) slot = std::make_shared<StatementCache>();
  auto& cache = static_cast<StatementCache*>(slot.get())->by_text;
  auto it = cache.find(sql);
  if (it == cache.end()) {
    sqlite_api::sqlite3_stmt* st = nullptr;
    auto* conn = connection_of(*in_use.session);
    if (sqlite_api::sqlite3_prepare_v3(conn, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                       nullptr) != SQLITE_OK)
      throw std::runtime_error(fmt::format("sqlite: {}: {}", sqlite_api::sqlite3_errmsg(conn), sql));
    it = cache.emplace(std::string(sql), std::make_unique<CachedStatement>(st)).first;
  }
  it->second->reset();
  return *it->second;
}

void Database::reset_statements(soci::session& session) {
  auto* conn = connection_of(session);
  for (auto* st = sqlite_api::sqlite3_next_stmt(conn, nullptr); st; st = sqlite_api::sqlite3_next_stmt(conn, st))
    if (sqlite_api::sqlite3_stmt_busy(st)) sqlite_api::sqlite3_reset(st);
}

void Database::run_in_batch(const std::function<void(soci::session&)>& work) {
  Job job{&work, nullptr, false};
  std::unique_lock lock(batch_mutex_);
  queue_.push_back(&job);
  while (!job.done) {
    if (leading_) {
      batch_done_.wait(lock);
      continue;
    }
    leading_ = true;  // this thread commits for everyone queued now
    std::vector<Job*> batch;
    batch.swap(queue_);
    lock.unlock();
    execute(batch);
    lock.lock();
    leading_ = false;
    for (auto* j : batch) j->done = true;
    batch_done_.notify_all();
  }
  lock.unlock();
  if (job.error) std::rethrow_exception(job.error);
}

void Database::execute(const std::vector<Job*>& batch) {
  bool any_committed = false, signal = false;
  {
    std::lock_guard lock(mutex_);
    const Scope scope(this, session_, prepared_);
    try {
      // IMMEDIATE: the write lock is taken (waiting out another process's writer, up to the busy
      // timeout) before anything is read; a deferred BEGIN that read first fails at once with
      // SQLITE_BUSY when another process wrote in between (a shared ledger in the split topology).
      statement("BEGIN IMMEDIATE").run();
      if (batch.size() == 1) {  // the common case needs no savepoint
        try {
          (*batch.front()->work)(session_);
        } catch (...) {
          batch.front()->error = std::current_exception();
        }
      } else {
        for (auto* job : batch) {
          statement("SAVEPOINT job").run();
          try {
            (*job->work)(session_);
            reset_statements(session_);  // a statement left stepping would fail the release
            statement("RELEASE job").run();
          } catch (...) {
            job->error = std::current_exception();
            reset_statements(session_);
            statement("ROLLBACK TO job").run();
            statement("RELEASE job").run();
          }
        }
      }
      reset_statements(session_);
      any_committed = std::any_of(batch.begin(), batch.end(), [](const Job* j) { return !j->error; });
      statement(any_committed ? "COMMIT" : "ROLLBACK").run();
      signal = std::exchange(signal_commit_, false);
    } catch (...) {  // BEGIN or COMMIT failed: nothing of the batch was written
      any_committed = false;
      signal_commit_ = false;
      for (auto* job : batch)
        if (!job->error) job->error = std::current_exception();
      try {
        if (!sqlite_api::sqlite3_get_autocommit(connection_of(session_))) statement("ROLLBACK").run();
      } catch (...) {
        // the connection is unusable; the next BEGIN reports it
      }
    }
  }
  if (any_committed && signal) committed();
}

void Database::on_commit(std::function<void()> listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

void Database::committed() {
  std::lock_guard lock(listeners_mutex_);
  for (const auto& l : listeners_) l();
}

HealthCheck database_health(Database& db) {
  return db.ping() ? HealthCheck{true, "database reachable"} : HealthCheck{false, "database unreachable"};
}

bool Database::ping() {
  try {
    std::lock_guard lock(mutex_);
    int one = 0;
    session_ << "SELECT 1", soci::into(one);
    return one == 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace eshop
