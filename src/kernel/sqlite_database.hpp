#pragma once
// The SQLite engine of Database: one writer connection with group commit, four WAL readers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <eshop/database.hpp>
#include <eshop/text_hash.hpp>

struct sqlite3;

namespace eshop {

class SqliteConnection final : public Tx {
 public:
  SqliteConnection(const std::string& path, bool reader);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Statement& statement(std::string_view sql) override;
  void execute(std::string_view sql) override;
  Engine engine() const override { return Engine::sqlite; }
  void notify(std::string_view, std::string_view) override {}

  // Resets every statement left mid-result (a one-row SELECT), when work is done: an active
  // statement holds its read snapshot, and SQLite can then never checkpoint the WAL back to the
  // start, which grows without bound.
  void reset_statements();
  bool in_transaction() const;
  sqlite3* handle() const { return db_; }
  EnqueuedEvents* enqueued() override { return &enqueued_; }
  std::int64_t last_insert_rowid() const override;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>, EndsHash, std::equal_to<>> cache_;
  EnqueuedEvents enqueued_;  // the writer's, cleared by each batch
};

class SqliteDatabase final : public Database {
 public:
  // commits_ahead: DatabaseOptions::commits_ahead.
  explicit SqliteDatabase(const std::string& path, bool commits_ahead = true);
  ~SqliteDatabase() override;

  void migrate(std::span<const Migration> migrations) override;
  int schema_version() override;
  void backup_to(const std::string& path) override;
  bool ping() override;
  Engine engine() const override { return Engine::sqlite; }
  bool writes_in_background() const override { return true; }
  bool hands_over_events() const override { return true; }
  void listen(const std::string&, std::function<void(const std::string&)>) override {}
  std::unique_ptr<Lease> lease(const std::string&) override {
    struct Always final : Lease {
      bool held() override { return true; }
    };
    return std::make_unique<Always>();
  }

 protected:
  void run_write(const std::function<void(Tx&)>& work) override;
  void run_read(const std::function<void(Tx&)>& work) override;
  void run_write_then(std::function<void(Tx&)> work, std::function<void(std::exception_ptr)> done) override;

 private:
  struct Reader {
    std::mutex mutex;
    std::unique_ptr<SqliteConnection> connection;
  };
  // A writer waiting in the queue, for the batch that holds its work to be committed.
  struct Job {
    explicit Job(const std::function<void(Tx&)>* w) : work(w) {}
    const std::function<void(Tx&)>* work;
    std::exception_ptr error;
    std::uint32_t batch = 0;  // the committer's number for that batch
    // write_then(): the job is the committer's (no writer waits for it), and this runs after the commit.
    std::function<void(std::exception_ptr)> done;
    std::function<void(Tx&)> owned_work;
  };
  Reader& lock_reader();  // a free reader if there is one, else the next in turn; returned locked
  void execute(const std::vector<Job*>& batch);
  // Commits the batches that queue up while one is being written, one after another with no gap
  // between them (see run_write).
  void commit_loop();
  // Checkpoints copy the WAL back into the database file. SQLite runs them inside the commit that
  // crossed 1,000 pages, holding up every writer queued behind it; here a thread of their own runs
  // them on a connection of their own (passive: the writer goes on meanwhile).
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);
  void checkpoint_loop();

  std::mutex mutex_;  // the writer connection
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex batch_mutex_;  // the queue of writers, and who writes
  std::condition_variable handed_over_;
  std::vector<Job*> queue_;
  bool writing_ = false;      // a batch is being written, by a caller (alone) or by the committer
  bool handover_ = false;     // the committer is to take the queue
  std::uint32_t batches_taken_ = 0;  // by the committer, under batch_mutex_
  // The last batch the committer committed (wrapping). The writers of a batch sleep on this word
  // with a bit of their own (the batch number's low five bits), so that one system call wakes the
  // whole batch and no writer of the next one; std::binary_semaphore's spin (sched_yield) before
  // it sleeps, and a wake-up per writer, cost the committer -- the thread every writer waits for
  // -- a core on two.
  std::atomic<std::uint32_t> committed_{0};
  void wait_for_batch(const Job& job);
  bool stop_committer_ = false;
  bool commits_ahead_ = true;
  std::thread committer_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<unsigned> next_reader_{0};
  std::unique_ptr<SqliteConnection> checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_due_ = false;  // under checkpoint_mutex_
  bool stopping_ = false;        // under checkpoint_mutex_
  std::thread checkpoint_thread_;  // last: starts when the rest is ready
};

}  // namespace eshop
