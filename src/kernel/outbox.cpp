#include <eshop/outbox.hpp>

#include <eshop/crypto.hpp>

#include <algorithm>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pthread.h>

#include <spdlog/spdlog.h>

namespace eshop {

namespace outbox {

void install(Database& db) {
  db.write([](Tx& tx) {
    if (tx.engine() == Engine::postgresql) {
      // txid: the writing transaction's id. The relay reads rows in (txid, seq) order and only
      // those of transactions older than every one still running, so a row committed late with
      // a lower seq is never passed over (sequences are handed out before commit, not at it).
      tx.execute("CREATE TABLE IF NOT EXISTS outbox ("
                 " seq BIGSERIAL PRIMARY KEY, txid BIGINT NOT NULL, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
                 " source TEXT NOT NULL, time TEXT NOT NULL, correlation_id TEXT NOT NULL, payload TEXT NOT NULL,"
                 " attempts BIGINT NOT NULL DEFAULT 0, last_error TEXT, dead_at TEXT,"
                 " partition_key TEXT NOT NULL DEFAULT '');"
                 "CREATE INDEX IF NOT EXISTS outbox_txid_seq ON outbox(txid, seq);"
                 "CREATE TABLE IF NOT EXISTS inbox ("
                 " event_id TEXT NOT NULL, handler TEXT NOT NULL, handled_at TEXT NOT NULL,"
                 " PRIMARY KEY (event_id, handler))");
      return;
    }
    tx.execute("CREATE TABLE IF NOT EXISTS outbox ("
               " seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
               " source TEXT NOT NULL, time TEXT NOT NULL, correlation_id TEXT NOT NULL, payload TEXT NOT NULL,"
               " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, dead_at TEXT)");
    auto& keyed = tx.statement("SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'partition_key'");
    const bool has_key = keyed.next() && keyed.int64(0) > 0;
    if (!has_key) tx.execute("ALTER TABLE outbox ADD COLUMN partition_key TEXT NOT NULL DEFAULT ''");
    tx.execute("CREATE TABLE IF NOT EXISTS inbox ("
               " event_id TEXT NOT NULL, handler TEXT NOT NULL, handled_at TEXT NOT NULL,"
               " PRIMARY KEY (event_id, handler))");
  });
}

namespace {

// Inserts `e` into the outbox; returns where the transaction keeps its events for the relay
// (Database::on_commit_events, SQLite), which then gets the event as it is, with its seq, and
// does not read it back from the outbox and parse it again; null elsewhere.
EnqueuedEvents* insert(Tx& tx, const Event& e) {
  tx.statement(tx.engine() == Engine::postgresql
                   ? "INSERT INTO outbox(event_id, type, source, time, correlation_id, payload, partition_key, txid) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, pg_current_xact_id()::text::bigint)"
                   : "INSERT INTO outbox(event_id, type, source, time, correlation_id, payload, partition_key) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, e.id)
      .bind(2, e.type)
      .bind(3, e.source)
      .bind(4, to_rfc3339(e.time))
      .bind(5, e.correlation_id)
      .bind(6, e.payload.dump())
      .bind(7, e.key)
      .run();
  tx.signal_commit();  // the relay wakes once this commits
  tx.notify("outbox", "");  // and so does the relay of another instance on the same PostgreSQL database
  return tx.enqueued();
}

void keep(Tx& tx, EnqueuedEvents& events, Event&& e) {
  auto kept = std::make_shared<EnqueuedEvent>();
  kept->seq = tx.last_insert_rowid();
  kept->event = std::move(e);
  events.push_back(std::move(kept));
}

}  // namespace

void enqueue(Tx& tx, Event&& e) {
  if (auto* events = insert(tx, e)) keep(tx, *events, std::move(e));
}

void enqueue(Tx& tx, const Event& e) {
  if (auto* events = insert(tx, e)) keep(tx, *events, Event(e));
}

std::int64_t backlog(Database& db) {
  return db.read([](Tx& tx) {
    auto& q = tx.statement("SELECT COUNT(*) FROM outbox WHERE dead_at IS NULL");
    return q.next() ? q.int64(0) : 0;
  });
}

}  // namespace outbox

namespace inbox {

namespace {
// Records `event` as handled by `handler` in the caller's transaction; false when it was before.
bool record(Tx& tx, const std::string& event_id, const std::string& handler, const std::string& now) {
  return tx.statement("INSERT INTO inbox(event_id, handler, handled_at) VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING")
             .bind(1, event_id)
             .bind(2, handler)
             .bind(3, now)
             .run() > 0;
}
}  // namespace

bool handle_once(Database& db, const Event& event, std::string_view handler, const std::function<void(Tx&)>& effect) {
  const std::string name(handler);
  const std::string now = to_rfc3339(std::chrono::system_clock::now());
  return db.write([&](Tx& tx) {
    if (!record(tx, event.id, name, now)) return false;
    effect(tx);
    return true;
  });
}

void handle_once_then(Database& db, const Event& event, std::string_view handler, std::function<void(Tx&)> effect,
                      Done done) {
  db.write_then(
      [id = event.id, name = std::string(handler), now = to_rfc3339(std::chrono::system_clock::now()),
       effect = std::move(effect)](Tx& tx) {
        if (record(tx, id, name, now)) effect(tx);
      },
      std::move(done));
}

std::int64_t prune(Database& db, std::chrono::system_clock::time_point handled_before, int limit) {
  const auto made_before = crypto::uuid_v7_prefix(handled_before);  // every id made earlier sorts below
  const auto before = to_rfc3339(handled_before);
  return db.write([&](Tx& tx) {
    return static_cast<std::int64_t>(
        tx.statement("DELETE FROM inbox WHERE (event_id, handler) IN (SELECT event_id, handler FROM inbox "
                     "WHERE event_id < ?1 AND handled_at < ?2 ORDER BY event_id LIMIT ?3)")
            .bind(1, made_before)
            .bind(2, before)
            .bind(3, limit)
            .run());
  });
}

bool seen(Tx& tx, const Event& event, std::string_view handler) {
  auto& q = tx.statement("SELECT 1 FROM inbox WHERE event_id = ?1 AND handler = ?2");
  q.bind(1, event.id).bind(2, handler);
  return q.next();
}

bool seen(Database& db, const Event& event, std::string_view handler) {
  return db.read([&](Tx& tx) { return seen(tx, event, handler); });
}

}  // namespace inbox

struct OutboxRelay::Row {
  long long seq = 0;
  long long txid = 0;  // PostgreSQL: the writing transaction
  int attempts = 0;
  Event event;
  bool dead = false;  // dead-lettered by the last attempt
  Start start = Start::waits;  // how the bus starts the event (EventBus::starts), asked when it was read
};

namespace {

// Where the relay has read up to: (txid, seq) on PostgreSQL, seq alone on SQLite (one writer at a
// time: rows commit in seq order).
struct Cursor {
  long long txid = 0, seq = 0;
};

// The next committed rows after `after`, in outbox order.
std::vector<OutboxRelay::Row> pending_rows(Database& db, const Cursor& after, int limit) {
  return db.read([&](Tx& tx) {
    const bool pg = tx.engine() == Engine::postgresql;
    auto& q = pg ? tx.statement("SELECT seq, attempts, event_id, type, source, time, correlation_id, payload, "
                                "partition_key, txid FROM outbox "
                                "WHERE (txid, seq) > (?1, ?2) AND dead_at IS NULL "
                                "AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
                                "ORDER BY txid, seq LIMIT ?3")
                 : tx.statement("SELECT seq, attempts, event_id, type, source, time, correlation_id, payload, "
                                "partition_key, 0 FROM outbox WHERE seq > ?2 AND dead_at IS NULL ORDER BY seq LIMIT ?3");
    if (pg) q.bind(1, after.txid);
    q.bind(2, after.seq).bind(3, limit);
    std::vector<OutboxRelay::Row> rows;
    while (q.next()) {
      OutboxRelay::Row r;
      r.seq = q.int64(0);
      r.attempts = static_cast<int>(q.int64(1));
      r.event.id = q.text(2);
      r.event.type = q.text(3);
      r.event.source = q.text(4);
      r.event.time = parse_rfc3339(q.text(5)).value_or(TimePoint{});
      r.event.correlation_id = q.text(6);
      r.event.payload = nlohmann::json::parse(q.text(7));
      r.event.key = q.text(8);
      r.txid = q.int64(9);
      rows.push_back(std::move(r));
    }
    return rows;
  });
}

void remove_delivered(Database& db, const std::vector<long long>& seqs) {
  if (seqs.empty()) return;
  db.write([&](Tx& tx) {
    for (auto s : seqs) tx.statement("DELETE FROM outbox WHERE seq = ?1").bind(1, s).run();
  });
}

const std::string& key_of(const Event& e) { return e.key.empty() ? e.id : e.key; }

// At most this long between deletions of delivered rows while the relay is busy (it deletes at
// once when it is idle, or when a batch's worth was delivered).
constexpr std::chrono::milliseconds kCleanUpInterval{100};

// Old inbox records are deleted this many at a time (one short transaction each, so the module's
// writers barely wait), at most kPruneChunks chunks per wake-up of the relay.
constexpr int kPruneChunk = 1000;
constexpr int kPruneChunks = 10;

}  // namespace

// One lane: a thread that delivers the rows handed to it, in order per key. A key whose event
// failed is held, with its later rows, and retried after a backoff while the lane goes on with
// other keys.
//
// An event whose handlers can be started (EventBus::starts: in-process handlers whose write goes
// to a group commit) is started, and its commit not waited for: the lane goes on, and the key's
// later rows wait behind it until it settles, on the thread that committed it. One that starts at
// once (no external call first), of a key alone in its batch, given to a lane with nothing to do,
// is started on the relay's thread and wakes no lane.
class OutboxRelay::Lane {
 public:
  Lane(OutboxRelay& relay, int number)
      : relay_(relay), thread_([this, name = "lane-" + relay.module_.substr(0, 6) + "-" + std::to_string(number)] {
          pthread_setname_np(pthread_self(), name.c_str());  // at most 15 characters
          loop();
        }) {}
  ~Lane() { stop(); }

  // Finishes the event in hand and waits for those started, then ends; what it delivered stays
  // for take_delivered().
  void stop() {
    ask_to_stop();
    if (thread_.joinable()) thread_.join();
    std::unique_lock lock(mutex_);
    for (const auto& f : failed_) started_.erase(key_of(f.row->event));  // not retried: left in the outbox
    failed_.clear();
    settled_.wait(lock, [&] { return started_.empty(); });
  }
  // The same without waiting: a relay asks all its lanes at once, then waits for each, so they
  // finish their events in hand together rather than one after another.
  void ask_to_stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
  }

  void push(std::vector<Row>&& rows) {
    std::vector<std::shared_ptr<Row>> start_now;
    bool wake;
    {
      std::lock_guard lock(mutex_);
      const bool idle = queue_.empty() && !in_hand_ && !holding_ && !stopping_;
      const bool was_empty = queue_.empty();
      const auto lone = idle ? alone(rows) : std::vector<bool>(rows.size(), false);  // before any row moves
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& key = key_of(rows[i].event);
        if (lone[i] && rows[i].start == Start::at_once && !started_.contains(key)) {
          auto row = std::make_shared<Row>(std::move(rows[i]));
          started_.emplace(key_of(row->event), row);
          start_now.push_back(std::move(row));
        } else {
          queue_.push_back(std::move(rows[i]));
        }
      }
      wake = was_empty && !queue_.empty();
    }
    if (wake) wake_.notify_one();
    for (auto& row : start_now) start(std::move(row));
  }
  // The seqs delivered since the last call.
  void take_delivered(std::vector<long long>& out) {
    std::lock_guard lock(mutex_);
    out.insert(out.end(), delivered_.begin(), delivered_.end());
    delivered_.clear();
  }

 private:
  using Steady = std::chrono::steady_clock;
  struct Held {
    std::deque<Row> rows;  // the failed row first, then the key's later rows
    Steady::time_point retry_at;
    std::chrono::milliseconds backoff;
  };
  struct Failed {
    std::shared_ptr<Row> row;
    std::exception_ptr error;
  };
  // For each row, whether its key is in no other of the rows (a key with several goes through the
  // queue, in order, where its state events can be skipped).
  static std::vector<bool> alone(const std::vector<Row>& rows) {
    std::unordered_map<std::string_view, int> count;
    for (const auto& r : rows) ++count[key_of(r.event)];
    std::vector<bool> out(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = count[key_of(rows[i].event)] == 1;
    return out;
  }

  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (queue_.empty() && failed_.empty()) {
        const auto next_retry = earliest_retry();
        const auto ready = [&] { return stopping_ || !queue_.empty() || !failed_.empty(); };
        if (next_retry) wake_.wait_until(lock, *next_retry, ready);
        else wake_.wait(lock, ready);
        if (stopping_) return;
      }
      std::vector<Failed> failed;
      failed.swap(failed_);
      std::optional<Row> row;
      bool superseded = false;
      while (!row && !queue_.empty()) {
        // A row whose key has a started event not settled yet waits behind it. Decided here, under
        // the lock the settling thread takes too: checked later, its key could settle in between
        // and this row overtake the ones that settling puts back in front of the queue.
        if (const auto& key = key_of(queue_.front().event); started_.contains(key)) {
          behind_[key].push_back(std::move(queue_.front()));
        } else {
          row = std::move(queue_.front());
        }
        queue_.pop_front();
        if (row) superseded = superseded_in_queue(*row);
      }
      in_hand_ = true;
      lock.unlock();
      for (auto& f : failed) hold_failed(std::move(f));
      if (row) handle(std::move(*row), superseded);
      retry_due();
      lock.lock();
      in_hand_ = false;
      holding_ = !held_.empty();
    }
  }

  // A state event (RelayOptions::state_events) whose key's next event waiting here is of its type:
  // that one carries a later state, and this one need not be delivered. Under mutex_.
  bool superseded_in_queue(const Row& row) const {
    const auto& types = relay_.options_.state_events;
    if (types.empty() || !types.contains(row.event.type)) return false;
    const auto& key = key_of(row.event);
    for (const auto& later : queue_)
      if (key_of(later.event) == key) return later.event.type == row.event.type;
    return false;
  }

  void handle(Row&& row, bool superseded) {
    const auto key = key_of(row.event);
    if (auto it = held_.find(key); it != held_.end()) {
      it->second.rows.push_back(std::move(row));  // waits behind its key's failed event
      return;
    }
    if (superseded) return finished(row.seq, true);
    if (row.start != Start::waits) {
      auto started = std::make_shared<Row>(std::move(row));
      {
        std::lock_guard lock(mutex_);
        started_.emplace(key, started);
      }
      return start(std::move(started));
    }
    if (relay_.deliver(row)) return finished(row.seq, true);
    if (row.dead) return finished(row.seq, false);
    hold(std::move(row), {});
  }

  // The row (with the rows of its key that came after it) waits out a backoff, then is retried.
  void hold(Row&& row, std::deque<Row> later) {
    auto& held = held_[key_of(row.event)];
    held.backoff = relay_.options_.min_backoff;
    held.retry_at = Steady::now() + held.backoff;
    held.rows.push_back(std::move(row));
    for (auto& r : later) held.rows.push_back(std::move(r));
  }

  void start(std::shared_ptr<Row> row) {
    try {
      relay_.bus_.publish_start(row->event, [this, row](std::exception_ptr error) { settle(row, error); });
    } catch (...) {
      settle(row, std::current_exception());
    }
  }

  // A started row's handlers are done (on the thread that finished the last of them). Delivered:
  // the key's next rows go to the front of the queue. Failed: the lane thread records the attempt.
  void settle(const std::shared_ptr<Row>& row, std::exception_ptr error) {
    const auto& key = key_of(row->event);
    if (!error) {
      relay_.telemetry_.published(relay_.module_, row->event.type);
      finished(row->seq, true);
    }
    std::lock_guard lock(mutex_);
    if (error && !stopping_) {
      failed_.push_back({row, error});  // its key stays started until the lane holds it
      wake_.notify_one();
      return;
    }
    release(key);
  }

  // Under mutex_: the key's started row is done with; the rows that waited for it are next.
  void release(const std::string& key) {
    if (auto it = behind_.find(key); it != behind_.end()) {
      const bool was_empty = queue_.empty();
      queue_.insert(queue_.begin(), std::make_move_iterator(it->second.begin()),
                    std::make_move_iterator(it->second.end()));
      behind_.erase(it);
      if (was_empty) wake_.notify_one();
    }
    forget(key);
  }

  // Under mutex_: the key has no started row any more.
  void forget(const std::string& key) {
    started_.erase(key);
    if (started_.empty()) settled_.notify_all();
  }

  // On the lane thread: a started row failed. The attempt is recorded; the row is dead-lettered,
  // or held with the rows of its key that waited behind it.
  void hold_failed(Failed&& f) {
    auto& row = *f.row;
    relay_.failed(row, f.error);
    std::deque<Row> later;
    const auto key = key_of(row.event);
    {
      std::lock_guard lock(mutex_);
      if (auto it = behind_.find(key); it != behind_.end()) {
        later = std::move(it->second);
        behind_.erase(it);
      }
    }
    const bool dead = row.dead;
    if (dead) finished(row.seq, false);
    else hold(std::move(row), std::move(later));
    std::lock_guard lock(mutex_);
    if (dead)
      for (auto it = later.rbegin(); it != later.rend(); ++it) queue_.push_front(std::move(*it));
    forget(key);
  }

  // Retries the held keys whose backoff is over, in order, until one fails again.
  void retry_due() {
    const auto now = Steady::now();
    for (auto it = held_.begin(); it != held_.end() && !stopping();) {
      auto& h = it->second;
      if (h.retry_at > now) {
        ++it;
        continue;
      }
      while (!h.rows.empty()) {
        auto& row = h.rows.front();
        if (relay_.deliver(row)) {
          finished(row.seq, true);
        } else if (row.dead) {
          finished(row.seq, false);
        } else {
          h.backoff = std::min(h.backoff * 2, relay_.options_.max_backoff);
          h.retry_at = Steady::now() + h.backoff;
          break;
        }
        h.rows.pop_front();
      }
      it = h.rows.empty() ? held_.erase(it) : std::next(it);
    }
  }

  std::optional<Steady::time_point> earliest_retry() const {
    std::optional<Steady::time_point> t;
    for (const auto& [key, h] : held_)
      if (!t || h.retry_at < *t) t = h.retry_at;
    return t;
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // A row is done with: delivered (to be deleted from the outbox) or dead-lettered (kept there).
  void finished(long long seq, bool delivered) {
    if (delivered) {
      std::lock_guard lock(mutex_);
      delivered_.push_back(seq);
    }
    relay_.finished();
  }

  OutboxRelay& relay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable settled_;   // started_ became empty
  std::deque<Row> queue_;              // under mutex_
  std::vector<long long> delivered_;   // under mutex_
  bool stopping_ = false;              // under mutex_
  bool in_hand_ = false;               // under mutex_: the lane thread is delivering or holding rows
  bool holding_ = false;               // under mutex_: held_ is not empty
  // Under mutex_: the started rows not settled yet, by key, and the rows of their keys that came
  // after them; the started rows that failed, for the lane thread.
  std::unordered_map<std::string, std::shared_ptr<Row>> started_;
  std::unordered_map<std::string, std::deque<Row>> behind_;
  std::vector<Failed> failed_;
  std::unordered_map<std::string, Held> held_;  // the lane thread's own
  std::thread thread_;                 // last: starts when the rest is ready
};

// What the relay's thread and the threads that wake it share; the database's commit listener and
// event sink hold it too, and may outlive the relay.
struct OutboxRelay::Signal {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool pending = true;  // something may be waiting: check at start
  // SQLite: the events each commit added to the outbox (Database::on_commit_events), after the
  // relay's cursor, in seq order. While `complete`, every committed row after the cursor is here
  // or on its way, and the relay takes them from here instead of reading the outbox back; a row
  // not kept (the relay stopped, too many waiting, a seq out of order) clears it, and the relay
  // reads the outbox until it has caught up again.
  std::deque<Row> fresh;
  bool running = false;
  bool complete = false;
  long long cursor = 0;      // the seq of the last row the relay handed to a lane
  std::uint64_t missed = 0;  // rows not kept since the relay started
  static constexpr std::size_t kMaxFresh = 2048;

  void notify();
  void offer(EnqueuedEvents&& events);
};

OutboxRelay::OutboxRelay(Database& db, EventBus& bus, std::string module, EventTelemetry& telemetry,
                         RelayOptions options)
    : db_(db),
      bus_(bus),
      module_(std::move(module)),
      telemetry_(telemetry),
      options_(options),
      signal_(std::make_shared<Signal>()) {
  options_.lanes = std::max(1, options_.lanes);
  options_.batch_size = std::max(1, options_.batch_size);
  outbox::install(db_);
  db_.on_commit_events([signal = signal_](EnqueuedEvents&& events) { signal->offer(std::move(events)); });
  db_.on_commit([signal = signal_] { signal->notify(); });
  db_.listen("outbox", [signal = signal_](const std::string&) { signal->notify(); });
}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::Signal::notify() {
  {
    std::lock_guard lock(mutex);
    pending = true;
  }
  wake.notify_one();
}

// On the committing thread, before the on_commit listener wakes the relay.
void OutboxRelay::Signal::offer(EnqueuedEvents&& events) {
  std::lock_guard lock(mutex);
  try {
    for (auto& e : events) {
      if (e->seq <= cursor) continue;  // the relay read it from the outbox already
      const bool in_order = fresh.empty() ? true : e->seq > fresh.back().seq;
      if (!running || !in_order || fresh.size() >= kMaxFresh) {
        ++missed;
        complete = false;
        continue;
      }
      Row r;
      r.seq = e->seq;
      r.event = std::move(e->event);
      fresh.push_back(std::move(r));
    }
  } catch (...) {
    ++missed;
    complete = false;
  }
}

void OutboxRelay::start() {
  std::lock_guard lock(signal_->mutex);
  if (thread_.joinable()) return;
  signal_->stopping = false;
  signal_->pending = true;
  signal_->running = true;
  signal_->complete = false;  // what a crash or an earlier run left is read from the outbox
  signal_->cursor = 0;
  signal_->fresh.clear();
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
  std::lock_guard lock(signal_->mutex);
  signal_->running = false;
  signal_->complete = false;
  signal_->fresh.clear();  // still in the outbox, for the next start
}

void OutboxRelay::finished() {
  // The relay reads more when half its window is free, and cleans up when all is done.
  const auto left = in_flight_.fetch_sub(1) - 1;
  if (left == 0 || left == window() / 2) signal_->notify();
}

bool OutboxRelay::deliver(Row& row) {
  try {
    bus_.publish(row.event);
  } catch (...) {
    failed(row, std::current_exception());
    return false;
  }
  telemetry_.published(module_, row.event.type);
  return true;
}

void OutboxRelay::failed(Row& row, std::exception_ptr error) {
  std::string what = "unknown error";
  try {
    std::rethrow_exception(error);
  } catch (const TransportUnavailable&) {
    telemetry_.publish_failed(module_, row.event.type);  // not an attempt: the event waits, however long
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  row.dead = row.attempts + 1 >= options_.max_attempts;
  ++row.attempts;
  const int dead = row.dead ? 1 : 0;
  try {
    const std::string now = to_rfc3339(std::chrono::system_clock::now());
    db_.write([&](Tx& tx) {
      tx.statement("UPDATE outbox SET attempts = attempts + 1, last_error = ?1, "
                   "dead_at = CASE WHEN ?2 = 1 THEN ?3 END WHERE seq = ?4")
          .bind(1, what)
          .bind(2, dead)
          .bind(3, now)
          .bind(4, row.seq)
          .run();
    });
  } catch (const std::exception&) {
    row.dead = false;  // not recorded: it stays pending, and is retried
  }
  spdlog::warn("\"msg\":\"event delivery failed\",\"module\":{},\"type\":{},\"eventId\":{},\"attempt\":{},"
               "\"deadLettered\":{},\"error\":{}",
               nlohmann::json(module_).dump(), nlohmann::json(row.event.type).dump(),
               nlohmann::json(row.event.id).dump(), row.attempts, row.dead, nlohmann::json(what).dump());
  if (row.dead) telemetry_.dead_lettered(module_, row.event.type);
  else telemetry_.publish_failed(module_, row.event.type);
}

bool OutboxRelay::prune_inbox() {
  const auto before = std::chrono::system_clock::now() - options_.inbox_retention;
  std::int64_t removed = 0, last = 0;
  for (int chunk = 0; chunk < kPruneChunks; ++chunk) {
    last = inbox::prune(db_, before, kPruneChunk);
    removed += last;
    if (last < kPruneChunk) break;
  }
  if (removed > 0)
    spdlog::info("\"msg\":\"inbox pruned\",\"module\":{},\"records\":{},\"handledBefore\":{}",
                 nlohmann::json(module_).dump(), removed, nlohmann::json(to_rfc3339(before)).dump());
  return last == kPruneChunk;
}

std::int64_t OutboxRelay::flush(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    // Each wake deletes what the lanes delivered since the last one, and hands out what is new.
    signal_->notify();
    const auto left = backlog();
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// The dispatcher: reads committed rows after the last one it handed out, gives each to the lane
// of its key, and deletes what the lanes delivered. Lanes run on without waiting for each other.
void OutboxRelay::run() {
  pthread_setname_np(pthread_self(), ("relay-" + module_.substr(0, 9)).c_str());
  // A lane's thread starts with its first event: a quiet module's relay keeps few threads.
  std::vector<std::unique_ptr<Lane>> lanes(static_cast<std::size_t>(options_.lanes));
  Cursor cursor;  // every row up to here is with a lane, delivered or dead
  in_flight_ = 0;
  // Delivered rows are deleted in batches: a delete is a write transaction of its own, and one per
  // wake-up (a wake-up per commit of new events) cost as many commits as the handlers made. A row
  // delivered and not yet deleted is delivered again after a crash, and the inboxes drop it.
  std::vector<long long> delivered;
  auto last_clean_up = std::chrono::steady_clock::now();
  auto next_prune = last_clean_up;  // the inbox's old records: at start, then once per interval
  auto clean_up = [&](bool now) {
    for (auto& lane : lanes)
      if (lane) lane->take_delivered(delivered);
    const auto t = std::chrono::steady_clock::now();
    if (!now && in_flight_.load() > 0 && static_cast<int>(delivered.size()) < options_.batch_size &&
        t - last_clean_up < kCleanUpInterval)
      return;
    remove_delivered(db_, delivered);
    delivered.clear();
    last_clean_up = t;
  };
  // Several instances of the shop on one PostgreSQL database: one relay at a time delivers a
  // module's outbox (per-key order needs one reader); the others stand by and take over within a
  // poll interval when its process goes. On SQLite the lease is always held.
  const auto lease = db_.lease("outbox-relay");
  auto& s = *signal_;
  // The next rows after the cursor, at most `limit`: those the commits handed over while nothing
  // was missed, else read from the outbox. Under s.mutex.
  auto take_fresh = [&](int limit, std::vector<Row>& rows) {
    while (!s.fresh.empty() && s.fresh.front().seq <= cursor.seq) s.fresh.pop_front();
    while (!s.fresh.empty() && static_cast<int>(rows.size()) < limit) {
      if (s.fresh.front().seq != cursor.seq + 1 + static_cast<long long>(rows.size())) {
        s.complete = false;  // a gap: some row is still on its way, or was not kept
        break;
      }
      rows.push_back(std::move(s.fresh.front()));
      s.fresh.pop_front();
    }
  };
  std::unique_lock lock(s.mutex);
  while (true) {
    const bool woken = s.wake.wait_for(lock, options_.poll_interval, [&] { return s.stopping || s.pending; });
    if (s.stopping) break;
    s.pending = false;
    lock.unlock();
    try {
      if (!lease->held()) {
        lock.lock();
        continue;
      }
      clean_up(false);
      if (options_.inbox_retention.count() > 0 && std::chrono::steady_clock::now() >= next_prune) {
        bool more = false;
        try {
          more = prune_inbox();
        } catch (const std::exception& e) {
          spdlog::warn("\"msg\":\"inbox pruning failed\",\"module\":{},\"error\":{}",
                       nlohmann::json(module_).dump(), nlohmann::json(e.what()).dump());
        }
        // A long backlog (the first start of a shop whose inboxes were never pruned) goes on at the
        // next poll, a chunk at a time, rather than holding the relay up.
        next_prune = std::chrono::steady_clock::now() + (more ? options_.poll_interval : options_.inbox_prune_interval);
      }
      const int room = window() - in_flight_.load();
      if (room > 0) {
        const int limit = std::min(room, options_.batch_size);
        std::vector<Row> rows;
        bool read = true;
        std::uint64_t missed = 0;
        {
          std::lock_guard fresh_lock(s.mutex);
          // A wake-up by the poll interval reads the outbox anyway: nothing is left there for long.
          if (s.complete && woken) {
            take_fresh(limit, rows);
            read = !s.complete && rows.empty();
          }
          missed = s.missed;
        }
        if (read) {
          rows = pending_rows(db_, cursor, limit);
          std::lock_guard fresh_lock(s.mutex);
          const long long upto = rows.empty() ? cursor.seq : rows.back().seq;
          while (!s.fresh.empty() && s.fresh.front().seq <= upto) s.fresh.pop_front();
          s.cursor = upto;
          // Caught up, with every commit since handed over: later rows come from the commits.
          if (static_cast<int>(rows.size()) < limit && s.missed == missed && s.running && db_.hands_over_events())
            s.complete = true;
        }
        if (!rows.empty()) {
          cursor = {rows.back().txid, rows.back().seq};
          {
            std::lock_guard fresh_lock(s.mutex);
            s.cursor = cursor.seq;
            if (!s.fresh.empty() || !s.complete) s.pending = true;  // there may be more
          }
          in_flight_ += static_cast<int>(rows.size());
          std::vector<std::vector<Row>> by_lane(lanes.size());
          for (auto& row : rows) {
            // A transport replaced before the row is delivered still takes it: publish_start()
            // then publishes and calls back at once.
            row.start = bus_.starts(row.event.type);
            by_lane[std::hash<std::string>{}(key_of(row.event)) % lanes.size()].push_back(std::move(row));
          }
          for (std::size_t i = 0; i < lanes.size(); ++i) {
            if (by_lane[i].empty()) continue;
            if (!lanes[i]) lanes[i] = std::make_unique<Lane>(*this, static_cast<int>(i));
            lanes[i]->push(std::move(by_lane[i]));
          }
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("\"msg\":\"outbox relay error\",\"module\":{},\"error\":{}", nlohmann::json(module_).dump(),
                    nlohmann::json(e.what()).dump());
      lock.lock();
      s.complete = false;
      s.wake.wait_for(lock, options_.min_backoff, [&] { return s.stopping; });
      s.pending = true;
      continue;
    }
    lock.lock();
  }
  lock.unlock();
  for (auto& lane : lanes)  // each finishes the event in hand; the rest stays in the outbox
    if (lane) lane->ask_to_stop();
  for (auto& lane : lanes)
    if (lane) lane->stop();
  try {
    clean_up(true);  // what the lanes delivered last is deleted too, not delivered again at the next start
  } catch (const std::exception&) {
    // not deleted: delivered again at the next start, and dropped by the inboxes
  }
}

}  // namespace eshop
