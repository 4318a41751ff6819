#pragma once
// Transactional outbox and idempotent inbox: reliable events over any bus.
//
// A module writes its state change and the events it publishes in ONE transaction of its
// own database (outbox::enqueue inside Database::write). A relay delivers committed rows
// to the bus in order, retries with backoff until the transport takes them, and on start
// delivers whatever a crash left behind. A consumer records each handled event id in its
// own database in the same transaction as its effect (inbox::handle_once), so a
// redelivered event has no second effect.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <eshop/database.hpp>
#include <eshop/event_bus.hpp>
#include <eshop/telemetry.hpp>

namespace eshop {

// An event added to the outbox, and its place there.
struct EnqueuedEvent {
  long long seq = 0;
  Event event;
};

namespace outbox {
// Creates the outbox and inbox tables if they are missing.
void install(Database& db);
// Adds `event` to the outbox, inside the caller's transaction.
void enqueue(Tx& tx, const Event& event);
void enqueue(Tx& tx, Event&& event);
// Events still waiting for delivery (dead-lettered ones excluded).
std::int64_t backlog(Database& db);
}  // namespace outbox

namespace inbox {
// Runs `effect` and records `event` as handled by `handler`, in one transaction, unless it
// was handled before. Returns false for a duplicate.
bool handle_once(Database& db, const Event& event, std::string_view handler,
                 const std::function<void(Tx&)>& effect);
// The same without the caller waiting (Database::write_then): `done` runs after the commit, or
// with what failed it. `effect` may run more than once (a batch run again), each time in a new
// transaction; the duplicate's check is in each.
void handle_once_then(Database& db, const Event& event, std::string_view handler, std::function<void(Tx&)> effect,
                      Done done);
// Deletes at most `limit` records of events handled before `handled_before`, oldest first, and
// returns how many. Event ids are UUIDv7 (their first 48 bits the time the event was made, so their
// text sorts by time): the primary key's range of ids made before that time is all it reads. A
// record whose id is not a UUIDv7 is kept.
std::int64_t prune(Database& db, std::chrono::system_clock::time_point handled_before, int limit = 1000);
// Whether `handler` already handled `event` (to skip an external call before handle_once).
bool seen(Database& db, const Event& event, std::string_view handler);
// The same inside the caller's transaction (a read the external call needs shares it).
bool seen(Tx& tx, const Event& event, std::string_view handler);
}  // namespace inbox

struct RelayOptions {
  std::chrono::milliseconds poll_interval{1000};  // also woken at once by every commit
  std::chrono::milliseconds min_backoff{50};
  std::chrono::milliseconds max_backoff{5000};
  int max_attempts = 10;  // then the event is dead-lettered in the outbox and the relay moves on
  int batch_size = 256;  // rows read at a time; at most 4 batches are with the lanes at once
  // Events are spread over lanes by key; each lane is a thread (started with its first event) that
  // delivers its keys' events in order, and lanes run on independently of each other. Many lanes
  // mean many handlers in flight, so their commits share fsyncs: checkout through the saga went
  // from 760 orders/s with 8 lanes to 970 with 32 and 990 with 64 (sixth session), and with 256
  // ordering's batches grew from about 30 writers to 55-75, for about 25 % less CPU per order
  // (docs/performance.md, ninth session). Since the fifteenth session no lane waits for a commit
  // on SQLite, only for an external call (a charge, a carrier, a mail), and 256 lanes a relay were
  // about 770 threads during checkout for no more concurrency: with 32, the checkout's peak RSS
  // was 2.5-11.5 MiB lower, its half-rate p99 lower in each of four interleaved pairs, and its rate
  // the same; with 8, the orders queued behind charges (twenty-first session). A lane that
  // waits costs a sleeping thread; on PostgreSQL the pool (8 connections) bounds the writes anyway,
  // and the AMQP bus publishes one event at a time.
  int lanes = 32;
  // Event types that carry the whole state of their key (ModuleDescriptor::state_events): a lane
  // skips one when the next event of its key waiting in the lane is of the same type. Skipped
  // events count as delivered.
  std::set<std::string, std::less<>> state_events;
  // The inbox keeps each handled event's record this long, then the relay deletes it (at start, then
  // once per inbox_prune_interval, in chunks): an event redelivered later than that would be handled
  // again. Redeliveries come within seconds (a crash before the outbox row was deleted) or minutes
  // (a broker's retries); 0 keeps every record.
  std::chrono::hours inbox_retention{7 * 24};
  std::chrono::milliseconds inbox_prune_interval{std::chrono::hours(1)};
};

class OutboxRelay final {
 public:
  OutboxRelay(Database& db, EventBus& bus, std::string module, EventTelemetry& telemetry, RelayOptions options = {});
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  void start();
  // Finishes the event in hand, then stops; what is left stays in the outbox for the next start.
  void stop();
  std::int64_t backlog() const { return outbox::backlog(db_); }
  // Delivers what waits in the outbox, until it is empty or the deadline passes, and returns how
  // many events are left (a module about to move hands over an empty outbox when it can).
  std::int64_t flush(std::chrono::steady_clock::time_point deadline);
  const std::string& module() const { return module_; }

  struct Row;

 private:
  class Lane;
  void run();
  // Publishes one event; on failure records the attempt (dead-lettering the last) and says false.
  bool deliver(Row& row);
  // Records a failed attempt to deliver `row` (dead-lettering the last; a transport that is down
  // is not an attempt).
  void failed(Row& row, std::exception_ptr error);
  // A lane is done with a row (delivered or dead-lettered).
  void finished();
  int window() const { return options_.batch_size * 4; }
  // Deletes inbox records older than the retention, a few chunks at a time; true if more are left.
  bool prune_inbox();

  Database& db_;
  EventBus& bus_;
  std::string module_;
  EventTelemetry& telemetry_;
  RelayOptions options_;
  // Shared with the database's commit listener, which may outlive this relay (outbox.cpp).
  struct Signal;
  std::shared_ptr<Signal> signal_;
  std::atomic<int> in_flight_{0};  // rows handed to lanes and not yet finished
  std::thread thread_;
};

}  // namespace eshop
