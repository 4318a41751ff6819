#include <eshop/database.hpp>
#include <eshop/module.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

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
Database* Database::current() { return in_use_slot ? static_cast<InUse*>(in_use_slot)->db : nullptr; }

const Database::InUse& Database::connection_in_use() {
  auto* in_use = static_cast<InUse*>(in_use_slot);
  if (!in_use || !in_use->db) throw std::logic_error("Database::prepared() outside read() or write() work");
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
  bool any_committed = false;
  {
    std::lock_guard lock(mutex_);
    const Scope scope(this, session_, prepared_);
    try {
      soci::transaction tx(session_);
      if (batch.size() == 1) {  // the common case needs no savepoint
        try {
          (*batch.front()->work)(session_);
        } catch (...) {
          batch.front()->error = std::current_exception();
        }
      } else {
        for (auto* job : batch) {
          session_ << "SAVEPOINT job";
          try {
            (*job->work)(session_);
            session_ << "RELEASE job";
          } catch (...) {
            job->error = std::current_exception();
            session_ << "ROLLBACK TO job";
            session_ << "RELEASE job";
          }
        }
      }
      reset_statements(session_);
      any_committed = std::any_of(batch.begin(), batch.end(), [](const Job* j) { return !j->error; });
      if (any_committed) tx.commit();
      else tx.rollback();
    } catch (...) {  // BEGIN or COMMIT failed: nothing of the batch was written
      any_committed = false;
      for (auto* job : batch)
        if (!job->error) job->error = std::current_exception();
    }
  }
  if (any_committed) committed();
}

void Database::reset_statements(soci::session& session) {
  auto* conn = static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
  for (auto* st = sqlite_api::sqlite3_next_stmt(conn, nullptr); st; st = sqlite_api::sqlite3_next_stmt(conn, st))
    if (sqlite_api::sqlite3_stmt_busy(st)) sqlite_api::sqlite3_reset(st);
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
