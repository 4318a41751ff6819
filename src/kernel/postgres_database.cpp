#include "kernel/postgres_database.hpp"

#include <algorithm>
#include <charconv>
#include <random>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

namespace eshop {

namespace {

constexpr Oid kInt8 = 20;  // pg_type's oid of bigint: integer parameters are sent as bigint

std::string sqlstate_of(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

std::string message_of(PGconn* conn, const PGresult* r) {
  std::string m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
  if (m.empty()) m = PQerrorMessage(conn);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// Throws for a failed result: DatabaseUnavailable when the connection is gone, else PostgresError.
void check(PostgresConnection& c, PGresult* r, std::string_view sql) {
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  const std::string message = message_of(c.handle(), r), state = sqlstate_of(r);
  PQclear(r);
  // Class 08: connection exceptions; 57P01-57P03: the server shuts down or cannot take connections.
  if (c.broken() || state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03")
    throw DatabaseUnavailable(fmt::format("PostgreSQL at {}: {}", c.shown_url(), message));
  throw PostgresError(fmt::format("postgresql: {} ({}): {}", message, state, sql.substr(0, 200)), state);
}

class PostgresStatement final : public Statement {
 public:
  PostgresStatement(PostgresConnection& c, std::string sql)
      : c_(c), sql_(PostgresDatabase::translate(sql)), name_(c.next_name()) {}
  ~PostgresStatement() override { PQclear(result_); }

  void reset() {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    for (auto& v : values_) v.reset();
  }
  bool next() override {
    if (!result_) execute();
    ++row_;
    return row_ < PQntuples(result_);
  }
  int run() override {
    if (!result_) execute();
    const char* n = PQcmdTuples(result_);
    return n && *n ? std::atoi(n) : 0;
  }
  std::int64_t int64(int column) const override {
    const char* v = PQgetvalue(result_, row_, column);
    std::int64_t out = 0;
    const auto len = static_cast<std::size_t>(PQgetlength(result_, row_, column));
    std::from_chars(v, v + len, out);  // NULL reads as 0, as on SQLite; a numeric SUM as its integer part
    return out;
  }
  std::string text(int column) const override {
    return std::string(PQgetvalue(result_, row_, column), static_cast<std::size_t>(PQgetlength(result_, row_, column)));
  }
  bool is_null(int column) const override { return PQgetisnull(result_, row_, column) != 0; }

 protected:
  void bind_int(int index, std::int64_t value) override { slot(index, kInt8) = std::to_string(value); }
  void bind_text(int index, std::string_view value) override { slot(index, 0) = std::string(value); }
  void bind_null(int index) override {
    slot(index, 0);
    values_[static_cast<std::size_t>(index - 1)].reset();
  }

 private:
  std::optional<std::string>& slot(int index, Oid type) {
    if (index < 1) throw std::invalid_argument("parameters count from 1");
    const auto i = static_cast<std::size_t>(index - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      types_.resize(i + 1, 0);
    }
    if (!prepared_ && type) types_[i] = type;  // the first run's types are the statement's
    values_[i].emplace();
    return values_[i];
  }
  void execute() {
    if (!prepared_) {
      check(c_, PQprepare(c_.handle(), name_.c_str(), sql_.c_str(), static_cast<int>(types_.size()), types_.data()),
            sql_);
      prepared_ = true;
    }
    std::vector<const char*> params(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) params[i] = values_[i] ? values_[i]->c_str() : nullptr;
    PGresult* r = PQexecPrepared(c_.handle(), name_.c_str(), static_cast<int>(params.size()), params.data(), nullptr,
                                 nullptr, 0);
    check(c_, r, sql_);
    result_ = r;
    row_ = -1;
  }

  PostgresConnection& c_;
  std::string sql_, name_;
  bool prepared_ = false;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

bool retryable(const std::string& state) { return state == "40001" || state == "40P01"; }

}  // namespace

std::string PostgresDatabase::translate(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (quote) {
      if (ch == quote) quote = 0;
      out += ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      out += ch;
    } else if (ch == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
    } else {
      out += ch;
    }
  }
  return out;
}

std::string PostgresDatabase::without_password(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  const auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

PostgresConnection::PostgresConnection(const std::string& url, const std::string& shown_url, const std::string& schema,
                                       std::string origin)
    : shown_url_(shown_url), schema_(schema), origin_(std::move(origin)) {
  // The URL's own settings, then ours: connect within 5 s, and name the client in pg_stat_activity.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const std::string app = "eshop" + (schema.empty() ? std::string() : "-" + schema);
  const char* values[] = {url.c_str(), "5", app.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw DatabaseUnavailable(fmt::format("cannot connect to PostgreSQL at {}: {}", shown_url_, message));
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "relation exists, skipping" and the like
  if (!schema.empty()) execute("SET search_path TO " + quote_identifier(schema) + ", public");
}

PostgresConnection::~PostgresConnection() {
  cache_.clear();
  PQfinish(conn_);
}

void PostgresConnection::notify(std::string_view channel, std::string_view payload) {
  statement("SELECT pg_notify(?1, ?2)")
      .bind(1, PostgresDatabase::channel_name(schema_, channel))
      .bind(2, origin_ + "|" + std::string(payload))
      .run();
}

bool PostgresConnection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

void PostgresConnection::execute(std::string_view sql) {
  const std::string script(sql);
  PGresult* r = PQexec(conn_, script.c_str());
  check(*this, r, script);  // clears a failed result
  PQclear(r);
}

Statement& PostgresConnection::statement(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), std::make_unique<PostgresStatement>(*this, std::string(sql))).first;
  static_cast<PostgresStatement&>(*it->second).reset();
  return *it->second;
}

PostgresDatabase::PostgresDatabase(const std::string& url, const DatabaseOptions& options)
    : Database(without_password(url)), url_(url), schema_(options.schema), pool_size_(std::max(1, options.pool_size)) {
  std::random_device rd;
  origin_ = std::to_string(rd()) + std::to_string(rd());
  release(acquire());  // fails now, naming the URL, when PostgreSQL cannot be reached
}

PostgresDatabase::~PostgresDatabase() {
  stopping_ = true;
  if (listener_.joinable()) listener_.join();
}

std::string PostgresDatabase::channel_name(const std::string& schema, std::string_view channel) {
  return "eshop." + (schema.empty() ? std::string("public") : schema) + "." + std::string(channel);
}

void PostgresDatabase::listen(const std::string& channel, std::function<void(const std::string&)> handler) {
  std::lock_guard lock(listen_mutex_);
  handlers_[channel_name(schema_, channel)].push_back(std::move(handler));
  listening_changed_ = true;
  if (!listener_.joinable()) listener_ = std::thread([this] { listener_loop(); });
}

// One connection that LISTENs to every channel asked for and hands each notification of another
// process to its handlers. Lost, it is opened again, and the handlers hear "*": what was
// notified meanwhile is unknown.
void PostgresDatabase::listener_loop() {
  std::unique_ptr<PostgresConnection> c;
  auto everyone = [&](const std::string& payload) {
    std::vector<std::function<void(const std::string&)>> all;
    {
      std::lock_guard lock(listen_mutex_);
      for (auto& [name, hs] : handlers_) all.insert(all.end(), hs.begin(), hs.end());
    }
    for (auto& h : all) {
      try {
        h(payload);
      } catch (const std::exception&) {
        // a handler that fails now catches up at the next notification or reconnection
      }
    }
  };
  while (!stopping_) {
    try {
      if (!c || c->broken()) {
        c.reset();
        c = std::make_unique<PostgresConnection>(url_, location_, schema_);
        std::lock_guard lock(listen_mutex_);
        listening_changed_ = true;
      }
      bool subscribe = false;
      std::vector<std::string> channels;
      {
        std::lock_guard lock(listen_mutex_);
        subscribe = std::exchange(listening_changed_, false);
        for (auto& [name, hs] : handlers_) channels.push_back(name);
      }
      if (subscribe) {
        for (const auto& name : channels) c->execute("LISTEN " + quote_identifier(name));
        everyone("*");  // whatever changed before we listened
      }
      pollfd fd{PQsocket(c->handle()), POLLIN, 0};
      ::poll(&fd, 1, 250);
      if (!PQconsumeInput(c->handle())) {
        c.reset();
        continue;
      }
      while (PGnotify* n = PQnotifies(c->handle())) {
        const std::string name = n->relname, text = n->extra ? n->extra : "";
        PQfreemem(n);
        const auto bar = text.find('|');
        if (bar == std::string::npos || text.compare(0, bar, origin_) == 0) continue;  // our own
        const auto payload = text.substr(bar + 1);
        std::vector<std::function<void(const std::string&)>> hs;
        {
          std::lock_guard lock(listen_mutex_);
          if (auto it = handlers_.find(name); it != handlers_.end()) hs = it->second;
        }
        for (auto& h : hs) {
          try {
            h(payload);
          } catch (const std::exception&) {
          }
        }
      }
    } catch (const std::exception&) {
      c.reset();
      for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

namespace {

// A PostgreSQL advisory lock held on a connection of its own: released by PostgreSQL when the
// connection goes, so a process killed with -9 gives it up at once.
class PostgresLease final : public Database::Lease {
 public:
  PostgresLease(std::string url, std::string shown, std::string key) : url_(std::move(url)), shown_(std::move(shown)), key_(std::move(key)) {}
  bool held() override {
    try {
      if (c_ && c_->broken()) {
        c_.reset();
        held_ = false;
      }
      const auto now = std::chrono::steady_clock::now();
      if (held_) {
        // An idle connection does not notice a restarted server by itself: ask it now and then, so
        // a lease lost with its server is not believed held while another process takes it.
        if (now - checked_ < std::chrono::seconds(1)) return true;
        checked_ = now;
        auto& ping = c_->statement("SELECT 1");
        if (ping.next()) return true;
      }
      if (now - checked_ < std::chrono::milliseconds(500)) return false;  // another holds it: ask again later
      checked_ = now;
      if (!c_) c_ = std::make_unique<PostgresConnection>(url_, shown_, "");
      auto& q = c_->statement("SELECT pg_try_advisory_lock(hashtext(?1)) :: int");
      q.bind(1, key_);
      held_ = q.next() && q.int64(0) == 1;
      return held_;
    } catch (const std::exception&) {
      c_.reset();
      held_ = false;
      return false;
    }
  }

 private:
  std::string url_, shown_, key_;
  std::unique_ptr<PostgresConnection> c_;
  bool held_ = false;
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace

std::unique_ptr<Database::Lease> PostgresDatabase::lease(const std::string& name) {
  return std::make_unique<PostgresLease>(url_, location_, "eshop." + schema_ + "." + name);
}

std::unique_ptr<PostgresConnection> PostgresDatabase::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (idle_.empty() && open_ >= pool_size_)
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= pool_size_)
      throw DatabaseUnavailable(fmt::format("no free connection to PostgreSQL at {} within 10 s", location_));
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  try {
    return std::make_unique<PostgresConnection>(url_, location_, schema_, origin_);
  } catch (...) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw;
  }
}

void PostgresDatabase::release(std::unique_ptr<PostgresConnection> connection) {
  std::lock_guard lock(mutex_);
  if (connection && !connection->broken() && PQtransactionStatus(connection->handle()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;  // a broken connection is dropped; the next acquire opens a new one
    connection.reset();
    // The server went away (a restart): the idle ones broke with it. Dropped now, they cost no
    // more failed requests once it is back.
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
  }
  freed_.notify_one();
}

// A pooled connection for the length of one read() or write().
class PostgresDatabase::Lease {
 public:
  explicit Lease(PostgresDatabase& db) : db_(db), c_(db.acquire()) {}
  ~Lease() { db_.release(std::move(c_)); }
  PostgresConnection& operator*() { return *c_; }
  PostgresConnection* operator->() { return c_.get(); }

 private:
  PostgresDatabase& db_;
  std::unique_ptr<PostgresConnection> c_;
};

void PostgresDatabase::run_read(const std::function<void(Tx&)>& work) {
  Lease c(*this);
  work(*c);
}

void PostgresDatabase::run_write(const std::function<void(Tx&)>& work) {
  Lease c(*this);
  for (int attempt = 1;; ++attempt) {
    c->clear_signal();
    try {
      c->statement("BEGIN ISOLATION LEVEL SERIALIZABLE").run();
      work(*c);
      c->statement("COMMIT").run();
      break;
    } catch (const PostgresError& e) {
      if (!c->broken() && PQtransactionStatus(c->handle()) != PQTRANS_IDLE) c->execute("ROLLBACK");
      if (!retryable(e.sqlstate) || attempt >= 60) throw;
      // Another transaction won the race: run the work again on what it committed, after a random
      // pause that grows with the attempts (up to 20 ms), so the losers of a hot row spread out.
      thread_local std::minstd_rand jitter{std::random_device{}()};
      const int cap_us = std::min(20'000, 100 << std::min(attempt, 8));
      std::this_thread::sleep_for(std::chrono::microseconds(jitter() % static_cast<unsigned>(cap_us)));
    } catch (...) {
      if (!c->broken() && PQtransactionStatus(c->handle()) != PQTRANS_IDLE) {
        try {
          c->execute("ROLLBACK");
        } catch (...) {
        }
      }
      throw;
    }
  }
  const bool signal = c->commit_signalled();
  c->clear_signal();
  if (signal) committed();
}

void PostgresDatabase::migrate(std::span<const Migration> migrations) {
  Lease c(*this);
  // Instances starting together migrate one after the other; the second finds nothing to do.
  c->execute("SELECT pg_advisory_lock(7231)");
  struct Unlock {
    PostgresConnection& c;
    ~Unlock() {
      try {
        c.execute("SELECT pg_advisory_unlock(7231)");
      } catch (...) {
      }
    }
  } unlock{*c};
  if (!schema_.empty()) c->execute("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(schema_));
  c->execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
             "applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))");
  int current = 0;
  {
    auto& q = c->statement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q.next()) current = static_cast<int>(q.int64(0));
  }
  if (!migrations.empty() && current > migrations.back().version)
    throw NewerSchema(fmt::format("{} (schema {}) has schema version {}, newer than this build knows ({})", location_,
                                  schema_, current, migrations.back().version));
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    c->execute("BEGIN");
    try {
      try {
        c->execute(m.postgresql_sql.empty() ? m.sql : m.postgresql_sql);
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: migration {} failed: {}", location_, m.name, e.what()));
      }
      c->statement("INSERT INTO schema_migrations(version, name) VALUES(?1, ?2)").bind(1, m.version).bind(2, m.name).run();
      c->execute("COMMIT");
    } catch (...) {
      if (!c->broken()) c->execute("ROLLBACK");
      throw;
    }
    current = m.version;
  }
}

int PostgresDatabase::schema_version() {
  Lease c(*this);
  auto& q = c->statement("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return q.next() ? static_cast<int>(q.int64(0)) : 0;
}

void PostgresDatabase::backup_to(const std::string&) {
  throw std::logic_error(location_ + " is a PostgreSQL database: it needs no copy to move, and has no file to copy");
}

// On a connection of its own: a health check must not queue behind a busy pool (a load balancer
// would take a loaded instance out), and it says whether PostgreSQL answers, not whether a
// connection is free.
bool PostgresDatabase::ping() {
  std::lock_guard lock(ping_mutex_);
  try {
    if (ping_ && ping_->broken()) ping_.reset();
    if (!ping_) ping_ = std::make_unique<PostgresConnection>(url_, location_, schema_);
    auto& q = ping_->statement("SELECT 1");
    return q.next() && q.int64(0) == 1;
  } catch (const std::exception&) {
    ping_.reset();
    return false;
  }
}

}  // namespace eshop
