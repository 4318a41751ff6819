#pragma once
// The PostgreSQL engine of Database (libpq): a pool of connections, each with its prepared
// statements; SERIALIZABLE write transactions run again on a serialization failure.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <thread>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <eshop/database.hpp>
#include <eshop/text_hash.hpp>

struct pg_conn;

namespace eshop {

// An error PostgreSQL reported, with its SQLSTATE (e.g. 40001: serialization failure).
struct PostgresError : std::runtime_error {
  PostgresError(const std::string& message, std::string state) : std::runtime_error(message), sqlstate(std::move(state)) {}
  std::string sqlstate;
};

class PostgresConnection final : public Tx {
 public:
  PostgresConnection(const std::string& url, const std::string& shown_url, const std::string& schema,
                     std::string origin = {});
  ~PostgresConnection() override;
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  Statement& statement(std::string_view sql) override;
  void execute(std::string_view sql) override;
  Engine engine() const override { return Engine::postgresql; }
  void notify(std::string_view channel, std::string_view payload) override;

  bool broken() const;
  pg_conn* handle() const { return conn_; }
  std::string next_name() { return "s" + std::to_string(++statements_); }
  const std::string& shown_url() const { return shown_url_; }

 private:
  pg_conn* conn_ = nullptr;
  std::string shown_url_, schema_, origin_;
  int statements_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Statement>, EndsHash, std::equal_to<>> cache_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(const std::string& url, const DatabaseOptions& options);
  ~PostgresDatabase() override;

  void migrate(std::span<const Migration> migrations) override;
  int schema_version() override;
  void backup_to(const std::string& path) override;
  bool ping() override;
  Engine engine() const override { return Engine::postgresql; }
  void listen(const std::string& channel, std::function<void(const std::string&)> handler) override;
  std::unique_ptr<Lease> lease(const std::string& name) override;

  // The NOTIFY channel of one of a schema's channels.
  static std::string channel_name(const std::string& schema, std::string_view channel);

  // ?1, ?2, ... outside quotes and comments become $1, $2, ...
  static std::string translate(std::string_view sql);
  // The URL with its password left out, for logs and errors.
  static std::string without_password(const std::string& url);

 protected:
  void run_write(const std::function<void(Tx&)>& work) override;
  void run_read(const std::function<void(Tx&)>& work) override;

 private:
  class Lease;
  std::unique_ptr<PostgresConnection> acquire();
  void release(std::unique_ptr<PostgresConnection> connection);

  void listener_loop();

  std::string url_;
  std::string schema_;
  std::string origin_;  // this Database's mark on its notifications, which its own listener skips
  int pool_size_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;  // under mutex_
  int open_ = 0;                                          // under mutex_: idle and in use

  std::mutex ping_mutex_;
  std::unique_ptr<PostgresConnection> ping_;  // under ping_mutex_

  std::mutex listen_mutex_;
  std::map<std::string, std::vector<std::function<void(const std::string&)>>> handlers_;  // by channel name
  bool listening_changed_ = false;  // under listen_mutex_: a channel to LISTEN to was added
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

}  // namespace eshop
