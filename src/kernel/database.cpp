#include <eshop/database.hpp>
#include <eshop/module.hpp>

#include "kernel/postgres_database.hpp"
#include "kernel/sqlite_database.hpp"

namespace eshop {

bool Database::is_postgresql_url(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::unique_ptr<Database> Database::open(const std::string& location, const DatabaseOptions& options) {
  if (is_postgresql_url(location)) return std::make_unique<PostgresDatabase>(location, options);
  return std::make_unique<SqliteDatabase>(location, options.commits_ahead);
}

void Database::on_commit(std::function<void()> listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

void Database::on_commit_events(std::function<void(EnqueuedEvents&&)> sink) {
  std::lock_guard lock(listeners_mutex_);
  events_sink_ = std::move(sink);
}

void Database::hand_over_events(EnqueuedEvents&& events) {
  std::lock_guard lock(listeners_mutex_);
  try {
    if (events_sink_) events_sink_(std::move(events));
  } catch (...) {
    // the sink takes care of its own failures (the relay then reads the outbox); the commit stands
  }
}

void Database::run_write_then(std::function<void(Tx&)> work, std::function<void(std::exception_ptr)> done) {
  std::exception_ptr error;
  try {
    run_write(work);
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

void Database::committed() {
  std::lock_guard lock(listeners_mutex_);
  for (const auto& l : listeners_) l();
}

HealthCheck database_health(Database& db) {
  return db.ping() ? HealthCheck{true, "database reachable"} : HealthCheck{false, "database unreachable"};
}

}  // namespace eshop
