#include <eshop/outbox.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

namespace eshop {

namespace {

struct InsertEvent {
  std::string id, type, source, time, correlation_id, payload, key;
  soci::statement st;
  explicit InsertEvent(soci::session& sql)
      : st((sql.prepare << "INSERT INTO outbox(event_id, type, source, time, correlation_id, payload, partition_key) "
                           "VALUES(:id, :type, :source, :time, :corr, :payload, :key)",
            soci::use(id), soci::use(type), soci::use(source), soci::use(time), soci::use(correlation_id),
            soci::use(payload), soci::use(key))) {}
};

struct RecordHandled {
  std::string event_id, handler, at;
  soci::statement st;
  explicit RecordHandled(soci::session& sql)
      : st((sql.prepare << "INSERT OR IGNORE INTO inbox(event_id, handler, handled_at) VALUES(:e, :h, :t)",
            soci::use(event_id), soci::use(handler), soci::use(at))) {}
};

struct WasHandled {
  std::string event_id, handler;
  int count = 0;
  soci::statement st;
  explicit WasHandled(soci::session& sql)
      : st((sql.prepare << "SELECT COUNT(*) FROM inbox WHERE event_id = :e AND handler = :h", soci::into(count),
            soci::use(event_id), soci::use(handler))) {}
};

struct DeleteDelivered {
  long long seq = 0;
  soci::statement st;
  explicit DeleteDelivered(soci::session& sql) : st((sql.prepare << "DELETE FROM outbox WHERE seq = :s", soci::use(seq))) {}
};

}  // namespace

namespace outbox {

void install(Database& db) {
  db.write([](soci::session& sql) {
    sql << "CREATE TABLE IF NOT EXISTS outbox ("
           " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
           " source TEXT NOT NULL, time TEXT NOT NULL, correlation_id TEXT NOT NULL, payload TEXT NOT NULL,"
           " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, dead_at TEXT)";
    int keyed = 0;
    sql << "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'partition_key'", soci::into(keyed);
    if (!keyed) sql << "ALTER TABLE outbox ADD COLUMN partition_key TEXT NOT NULL DEFAULT ''";
    sql << "CREATE TABLE IF NOT EXISTS inbox ("
           " event_id TEXT NOT NULL, handler TEXT NOT NULL, handled_at TEXT NOT NULL,"
           " PRIMARY KEY (event_id, handler))";
  });
}


void enqueue(soci::session& sql, const Event& e) {
  Database* db = Database::current();
  if (!db) throw std::logic_error("outbox::enqueue outside Database::write");
  auto& insert = db->prepared<InsertEvent>();
  (void)sql;
  insert.id = e.id;
  insert.type = e.type;
  insert.source = e.source;
  insert.time = to_rfc3339(e.time);
  insert.correlation_id = e.correlation_id;
  insert.payload = e.payload.dump();
  insert.key = e.key;
  insert.st.execute(true);
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
    auto& record = db.prepared<RecordHandled>();
    record.event_id = event.id;
    record.handler = name;
    record.at = now;
    record.st.execute(true);
    if (record.st.get_affected_rows() == 0) return false;
    effect(sql);
    return true;
  });
}

bool seen(Database& db, const Event& event, std::string_view handler) {
  return db.read([&](soci::session&) {
    auto& q = db.prepared<WasHandled>();
    q.event_id = event.id;
    q.handler = std::string(handler);
    q.st.execute(true);
    return q.count > 0;
  });
}

}  // namespace inbox

namespace {

}  // namespace

struct OutboxRelay::Row {
  long long seq = 0;
  int attempts = 0;
  Event event;
  bool dead = false;  // dead-lettered by the last attempt
};

namespace {

std::vector<OutboxRelay::Row> pending_rows(Database& db, int limit) {
  return db.read([&](soci::session& sql) {
    std::vector<OutboxRelay::Row> rows;
    OutboxRelay::Row r;
    std::string time, payload;
    soci::statement st = (sql.prepare << "SELECT seq, attempts, event_id, type, source, time, correlation_id, payload, "
                                         "partition_key FROM outbox WHERE dead_at IS NULL ORDER BY seq LIMIT :n",
                          soci::into(r.seq), soci::into(r.attempts), soci::into(r.event.id), soci::into(r.event.type),
                          soci::into(r.event.source), soci::into(time), soci::into(r.event.correlation_id),
                          soci::into(payload), soci::into(r.event.key), soci::use(limit));
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
  db.write([&](soci::session&) {
    auto& remove = db.prepared<DeleteDelivered>();
    for (auto s : seqs) {
      remove.seq = s;
      remove.st.execute(true);
    }
  });
}

}  // namespace

// Threads kept for the relay's lanes: run() hands out lane numbers until all are done; the
// calling thread works too.
class OutboxRelay::Workers {
 public:
  explicit Workers(int count) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Workers() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void run(const std::vector<std::size_t>& lanes, const std::function<void(std::size_t)>& work) {
    {
      std::lock_guard lock(mutex_);
      lanes_ = &lanes;
      work_ = &work;
      next_ = 0;
      done_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    help();
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return done_ == lanes.size(); });
    lanes_ = nullptr;
    work_ = nullptr;
  }

 private:
  // Takes lanes until none is left.
  void help() {
    for (;;) {
      std::size_t lane;
      const std::function<void(std::size_t)>* work;
      {
        std::lock_guard lock(mutex_);
        if (!lanes_ || next_ >= lanes_->size()) return;
        lane = (*lanes_)[next_++];
        work = work_;
      }
      (*work)(lane);
      std::lock_guard lock(mutex_);
      if (++done_ == lanes_->size()) finished_.notify_all();
    }
  }

  void loop() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      lock.unlock();
      help();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  const std::vector<std::size_t>* lanes_ = nullptr;
  const std::function<void(std::size_t)>* work_ = nullptr;
  std::size_t next_ = 0, done_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

OutboxRelay::OutboxRelay(Database& db, EventBus& bus, std::string module, EventTelemetry& telemetry,
                         RelayOptions options)
    : db_(db), bus_(bus), module_(std::move(module)), telemetry_(telemetry), options_(options),
      workers_(std::make_unique<Workers>(std::max(0, options.workers - 1))) {
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
  auto rows = pending_rows(db_, options_.batch_size);
  if (rows.empty()) return 0;
  // Same key, same lane, in outbox order; the lanes run side by side, so their handlers'
  // commits can share an fsync (the databases' group commit).
  const auto lanes = static_cast<std::size_t>(std::max(1, options_.lanes));
  std::vector<std::vector<Row*>> by_lane(lanes);
  for (auto& row : rows)
    by_lane[std::hash<std::string>{}(row.event.key.empty() ? row.event.id : row.event.key) % lanes].push_back(&row);
  std::vector<std::vector<long long>> delivered(lanes);
  std::vector<char> failed(lanes, 0);
  auto run_lane = [&](std::size_t lane) {
    std::set<std::string> held;  // keys with an undelivered event: their later events wait
    for (auto* row : by_lane[lane]) {
      const auto& key = row->event.key.empty() ? row->event.id : row->event.key;
      if (held.count(key)) continue;
      if (deliver(*row)) {
        delivered[lane].push_back(row->seq);
      } else if (!row->dead) {
        failed[lane] = 1;
        held.insert(key);
      }
    }
  };
  std::vector<std::size_t> busy;
  for (std::size_t lane = 0; lane < lanes; ++lane)
    if (!by_lane[lane].empty()) busy.push_back(lane);
  if (busy.size() == 1) run_lane(busy.front());
  else workers_->run(busy, run_lane);
  std::vector<long long> done;
  for (auto& d : delivered) done.insert(done.end(), d.begin(), d.end());
  remove_delivered(db_, done);
  if (std::any_of(failed.begin(), failed.end(), [](char f) { return f != 0; })) return -1;
  return static_cast<int>(rows.size());
}

bool OutboxRelay::deliver(Row& row) {
  try {
    bus_.publish(row.event);
    telemetry_.published(module_, row.event.type);
    return true;
  } catch (const TransportUnavailable&) {
    telemetry_.publish_failed(module_, row.event.type);  // not an attempt: the event waits, however long
    return false;
  } catch (const std::exception& e) {
    row.dead = row.attempts + 1 >= options_.max_attempts;
    const std::string error = e.what();
    const int dead = row.dead ? 1 : 0;
    db_.write([&](soci::session& sql) {
      sql << "UPDATE outbox SET attempts = attempts + 1, last_error = :e, "
             "dead_at = CASE WHEN :g THEN strftime('%Y-%m-%dT%H:%M:%SZ','now') END WHERE seq = :s",
          soci::use(error), soci::use(dead), soci::use(row.seq);
    });
    spdlog::warn("\"msg\":\"event delivery failed\",\"module\":{},\"type\":{},\"eventId\":{},\"attempt\":{},"
                 "\"deadLettered\":{},\"error\":{}",
                 nlohmann::json(module_).dump(), nlohmann::json(row.event.type).dump(),
                 nlohmann::json(row.event.id).dump(), row.attempts + 1, row.dead, nlohmann::json(error).dump());
    if (row.dead) telemetry_.dead_lettered(module_, row.event.type);
    else telemetry_.publish_failed(module_, row.event.type);
    return false;
  }
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
