#pragma once
#include "support/test_database.hpp"
// Starts the real application on 127.0.0.1 and an ephemeral port, with its own data dir.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <eshop/http_client.hpp>

#include "app/app.hpp"
#include "support/child_process.hpp"
#include "app/config.hpp"

namespace eshop::test {

inline constexpr const char* kAdminEmail = "admin@example.com";
inline constexpr const char* kAdminPassword = "admin-password-1";

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir final {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

app::Config test_config(const std::filesystem::path& data_dir);
// The test broker's URL (ESHOP_TEST_AMQP_URL_FILE), and a fresh namespace for one shop on it.
std::string amqp_test_url();
std::string test_namespace();
// A port nobody listens on right now (bound, read and released: another process may take it later).
std::uint16_t free_port();

class TestServer final {
 public:
  // Serves from `data_dir` (a new temp dir if empty); the admin account is configured.
  explicit TestServer(std::filesystem::path data_dir = {});
  explicit TestServer(app::Config config, app::Ports ports = {});
  ~TestServer();

  std::uint16_t port() const { return balancer_port_ ? balancer_port_ : app_->port(); }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  app::App& app() { return *app_; }
  // A new client with its own keep-alive connection.
  http::Client client() const { return http::Client("127.0.0.1", port()); }
  void stop();
  // A number out of a module's own database, as an outside observer reads it (the SQLite file, or
  // its PostgreSQL database when the run is on PostgreSQL).
  std::int64_t count(const std::string& module, const std::string& query) const;
  // The cluster topology: the instances behind the balancer, by index from 0.
  const std::vector<std::uint16_t>& instance_ports() const { return instance_ports_; }
  void kill_instance(std::size_t i);     // SIGKILL, as a crash would
  void restart_instance(std::size_t i);  // the same flags and port; returns once it listens
  // PostgreSQL: every row of the tables, as text.
  std::string dump(const std::string& module, const std::vector<std::string>& tables) const;

  // Logs in and returns the token; FAILs the test on anything but 200.
  std::string login(const std::string& email, const std::string& password) const;
  std::string admin_token() const { return login(kAdminEmail, kAdminPassword); }
  // Registers a customer with password "password-123" and returns a token.
  std::string customer_token(const std::string& email) const;

 private:
  // ESHOP_TEST_TOPOLOGY=split: ordering runs in a process of its own (the real binary) and this
  // one proxies to it; both share the broker, the namespace and the data directory.
  void start_split(app::Config config);
  // ESHOP_TEST_TOPOLOGY=cluster: three instances of the real binary on PostgreSQL and RabbitMQ,
  // behind HAProxy (ESHOP_TEST_INSTANCES overrides the three), all sharing the data directory
  // (the test payment ledger and the mail folder: files, as with one process).
  void start_cluster(const app::Config& config);
  std::vector<std::unique_ptr<Child>> instances_;
  std::vector<std::uint16_t> instance_ports_;
  std::vector<std::vector<std::string>> instance_args_;
  std::unique_ptr<Child> start_instance(const std::vector<std::string>& args);
  std::unique_ptr<Child> balancer_;
  std::uint16_t balancer_port_ = 0;
  bool stopped_ = false;

  std::unique_ptr<TempDir> owned_dir_;
  // ESHOP_TEST_POSTGRES_URL_FILE: every module of this server in a fresh PostgreSQL database.
  std::shared_ptr<PostgresScratch> postgres_;
  void use_postgres(app::Config& config);
  std::unique_ptr<Child> ordering_;
  std::filesystem::path data_dir_;
  std::unique_ptr<app::App> app_;
};

nlohmann::json body_of(const http::Response& response);

}  // namespace eshop::test
