#include <eshop/outbox.hpp>

#include <vector>

#include <spdlog/spdlog.h>

namespace eshop {

namespace outbox {

void install(Database& db) {
  db.write([](soci::session& sql) {
    sql << "CREATE TABLE IF NOT EXISTS outbox ("
           " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
           " source TEXT NOT NULL, time TEXT NOT NULL, correlation_id TEXT NOT NULL, payload TEXT NOT NULL,"
           " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, dead_at TEXT)";
    sql << "CREATE TABLE IF NOT EXISTS inbox ("
           " event_id TEXT NOT NULL, handler TEXT NOT NULL, handled_at TEXT NOT NULL,"
           " PRIMARY KEY (event_id, handler))";
  });
}

void enqueue(soci::session& sql, const Event& e) {
  const std::string time = to_rfc3339(e.time);
  const std::string payload = e.payload.dump();
  sql << "INSERT INTO outbox(event_id, type, source, time, correlation_id, payload) "
         "VALUES(:id, :type, :source, :time, :corr, :payload)",
      soci::use(e.id), soci::use(e.type), soci::use(e.source), soci::use(time), soci::use(e.correlation_id),
      soci::use(payload);
}

std::int64_t backlog(Database& db) {
  return db.read([](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM outbox WHERE dead_at IS NULL", soci::into(n);
    return static_cast<std::int64_t>(n);
  });
}

}  // namespace outbox

namespace inbox {

bool handle_once(Database& db, const Event& event, std::string_view handler,
                 const std::function<void(soci::session&)>& effect) {
  const std::string name(handler);
  const std::string now = to_rfc3339(std::chrono::system_clock::now());
  return db.write([&](soci::session& sql) {
    soci::statement st = (sql.prepare << "INSERT OR IGNORE INTO inbox(event_id, handler, handled_at) VALUES(:e, :h, :t)",
                          soci::use(event.id), soci::use(name), soci::use(now));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    effect(sql);
    return true;
  });
}

}  // namespace inbox

namespace {

struct Row {
  long long seq = 0;
  int attempts = 0;
  Event event;
};

std::vector<Row> pending_rows(Database& db, int limit) {
  return db.read([&](soci::session& sql) {
    std::vector<Row> rows;
    Row r;
    std::string time, payload;
    soci::statement st = (sql.prepare << "SELECT seq, attempts, event_id, type, source, time, correlation_id, payload "
                                         "FROM outbox WHERE dead_at IS NULL ORDER BY seq LIMIT :n",
                          soci::into(r.seq), soci::into(r.attempts), soci::into(r.event.id), soci::into(r.event.type),
                          soci::into(r.event.source), soci::into(time), soci::into(r.event.correlation_id),
                          soci::into(payload), soci::use(limit));
    st.execute();
    while (st.fetch()) {
      r.event.time = parse_rfc3339(time).value_or(TimePoint{});
      r.event.payload = nlohmann::json::parse(payload);
      rows.push_back(r);
    }
    return rows;
  });
}

void remove_delivered(Database& db, const std::vector<long long>& seqs) {
  if (seqs.empty()) return;
  db.write([&](soci::session& sql) {
    long long seq = 0;
    soci::statement st = (sql.prepare << "DELETE FROM outbox WHERE seq = :s", soci::use(seq));
    for (auto s : seqs) {
      seq = s;
      st.execute(true);
    }
  });
}

}  // namespace

OutboxRelay::OutboxRelay(Database& db, EventBus& bus, std::string module, EventTelemetry& telemetry,
                         RelayOptions options)
    : db_(db), bus_(bus), module_(std::move(module)), telemetry_(telemetry), options_(options) {
  outbox::install(db_);
  db_.on_commit([signal = signal_] {
    {
      std::lock_guard lock(signal->mutex);
      signal->pending = true;
    }
    signal->wake.notify_one();
  });
}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
  std::lock_guard lock(signal_->mutex);
  if (thread_.joinable()) return;
  signal_->stopping = false;
  signal_->pending = true;
  thread_ = std::thread([this] { run(); });
}

void OutboxRelay::stop() {
  {
    std::lock_guard lock(signal_->mutex);
    if (!thread_.joinable()) return;
    signal_->stopping = true;
  }
  signal_->wake.notify_all();
  thread_.join();
}

int OutboxRelay::deliver_batch() {
  std::vector<long long> delivered;
  int result = 0;
  for (auto& row : pending_rows(db_, options_.batch_size)) {
    try {
      bus_.publish(row.event);
      telemetry_.published(module_, row.event.type);
      delivered.push_back(row.seq);
      ++result;
    } catch (const std::exception& e) {
      const bool give_up = row.attempts + 1 >= options_.max_attempts;
      const std::string error = e.what();
      const int dead = give_up ? 1 : 0;
      db_.write([&](soci::session& sql) {
        sql << "UPDATE outbox SET attempts = attempts + 1, last_error = :e, "
               "dead_at = CASE WHEN :g THEN strftime('%Y-%m-%dT%H:%M:%SZ','now') END WHERE seq = :s",
            soci::use(error), soci::use(dead), soci::use(row.seq);
      });
      spdlog::warn("\"msg\":\"event delivery failed\",\"module\":{},\"type\":{},\"eventId\":{},\"attempt\":{},"
                   "\"deadLettered\":{},\"error\":{}",
                   nlohmann::json(module_).dump(), nlohmann::json(row.event.type).dump(),
                   nlohmann::json(row.event.id).dump(), row.attempts + 1, give_up, nlohmann::json(error).dump());
      if (give_up) {
        telemetry_.dead_lettered(module_, row.event.type);
        continue;
      }
      telemetry_.publish_failed(module_, row.event.type);
      result = -1;
      break;  // keep the module's order: nothing after a failed event goes out before it
    }
  }
  remove_delivered(db_, delivered);
  return result;
}

void OutboxRelay::run() {
  auto backoff = options_.min_backoff;
  auto& s = *signal_;
  std::unique_lock lock(s.mutex);
  while (true) {
    s.wake.wait_for(lock, options_.poll_interval, [&] { return s.stopping || s.pending; });
    if (s.stopping) return;
    s.pending = false;
    lock.unlock();
    int delivered = 0;
    try {
      delivered = deliver_batch();
    } catch (const std::exception& e) {
      spdlog::error("\"msg\":\"outbox relay error\",\"module\":{},\"error\":{}", nlohmann::json(module_).dump(),
                    nlohmann::json(e.what()).dump());
      delivered = -1;
    }
    lock.lock();
    if (delivered < 0) {
      // Back off; only stop() interrupts the wait, new commits do not.
      s.wake.wait_for(lock, backoff, [&] { return s.stopping; });
      backoff = std::min(backoff * 2, options_.max_backoff);
      s.pending = true;
    } else {
      backoff = options_.min_backoff;
      if (delivered >= options_.batch_size) s.pending = true;
    }
  }
}

}  // namespace eshop
