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

Database::Database(std::string path) : path_(std::move(path)) {
  // Another process may hold the file for a moment (a shared ledger, a second eshop starting):
  // opening retries for up to 10 s rather than failing at once.
  for (int attempt = 0;; ++attempt) {
    try {
      // Busy timeout in seconds for SOCI's sqlite3 backend.
      session_.open(soci::sqlite3, fmt::format("db={} timeout=5 synchronous=full", path_));
      session_ << "PRAGMA foreign_keys = ON";
      if (path_ != ":memory:") {
        std::string mode;
        session_ << "PRAGMA journal_mode = WAL", soci::into(mode);
        if (mode != "wal") throw std::runtime_error(fmt::format("{}: could not enable WAL", path_));
      }
      return;
    } catch (const soci::soci_error& e) {
      if (attempt >= 200 || std::string(e.what()).find("locked") == std::string::npos) throw;
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
thread_local Database* current_database = nullptr;
}  // namespace

Database::Scope::Scope(Database* db) : previous(current_database) { current_database = db; }
Database::Scope::~Scope() { current_database = previous; }
Database* Database::current() { return current_database; }

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
    const Scope scope(this);
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
