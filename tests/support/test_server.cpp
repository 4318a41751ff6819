#include "support/test_server.hpp"
#include "support/eventually.hpp"

#include <map>
#include <mutex>

#include <cstdlib>
#include <fstream>
#include <random>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace eshop::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("eshop-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string amqp_test_url() {
  const char* file = std::getenv("ESHOP_TEST_AMQP_URL_FILE");
  REQUIRE(file != nullptr);
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  REQUIRE_FALSE(url.empty());
  return url;
}

std::string test_namespace() {
  std::random_device rd;
  return "t" + std::to_string(rd()) + std::to_string(rd());
}

app::Config test_config(const std::filesystem::path& data_dir) {
  app::Config c;
  c.host = "127.0.0.1";
  c.port = 0;
  c.threads = 2;
  c.data_dir = data_dir.string();
  c.access_log = false;
  c.log_level = "warn";
  c.admin_email = kAdminEmail;
  c.admin_password = kAdminPassword;
  // A cheaper Argon2id keeps the suite fast; production defaults are tested in unit tests.
  c.password_mem_kib = 8 * 1024;
  c.password_ops_limit = 1;
  // Throttling has tests of its own; elsewhere it would only make tests depend on their speed.
  c.rate_limits = {{0, 0}, {0, 0}, {0, 0}};
  // ESHOP_TEST_BUS=amqp runs the same tests over RabbitMQ (the broker's URL in a file), each
  // server in a namespace of its own so parallel tests do not share queues.
  if (const char* bus = std::getenv("ESHOP_TEST_BUS"); bus && std::string(bus) == "amqp") {
    c.bus = amqp_test_url();
    c.bus_namespace = test_namespace();
  }
  return c;
}

TestServer::TestServer(std::filesystem::path data_dir) {
  if (data_dir.empty()) {
    owned_dir_ = std::make_unique<TempDir>();
    data_dir = owned_dir_->path();
  }
  data_dir_ = data_dir;
  auto config = test_config(data_dir_);
  use_postgres(config);
  const char* topology = std::getenv("ESHOP_TEST_TOPOLOGY");
  if (topology && std::string(topology) == "split") {
    start_split(config);
    return;
  }
  if (topology && std::string(topology) == "cluster") {
    start_cluster(config);
    return;
  }
  app_ = std::make_unique<app::App>(config);
  app_->start();
}

void TestServer::use_postgres(app::Config& config) {
  if (!on_postgres() || !config.databases.empty()) return;
  // A data directory the test owns may be served again (a restart): it keeps its PostgreSQL
  // database, like its files, until the test process ends.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<PostgresScratch>> by_dir;
  std::lock_guard lock(mutex);
  auto& scratch = owned_dir_ ? postgres_ : by_dir[config.data_dir];
  if (!scratch) scratch = std::make_shared<PostgresScratch>();
  postgres_ = scratch;
  config.databases["all"] = postgres_->url();
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void TestServer::stop() {
  if (app_) app_->stop();
  if (std::exchange(stopped_, true)) return;
  for (auto& instance : instances_) {
    kill(instance->pid(), SIGTERM);
    instance->wait_exit();
  }
}

std::unique_ptr<Child> TestServer::start_instance(const std::vector<std::string>& args) {
  return std::make_unique<Child>(args, std::vector<std::string>{std::string("ESHOP_ADMIN_EMAIL=") + kAdminEmail,
                                                                std::string("ESHOP_ADMIN_PASSWORD=") + kAdminPassword});
}

void TestServer::kill_instance(std::size_t i) {
  kill(instances_.at(i)->pid(), SIGKILL);
  instances_.at(i)->wait_exit();
}

void TestServer::restart_instance(std::size_t i) {
  instances_.at(i) = start_instance(instance_args_.at(i));
  const auto line = instances_.at(i)->wait_for_line("\"msg\":\"listening\"", std::chrono::seconds(60));
  REQUIRE_FALSE(line.empty());
  instances_.at(i)->read_in_background();
}

// The suites' HTTP requests go to one instance (HAProxy's `balance source`: every test client is
// 127.0.0.1), so a test reads what it wrote as with one process, while the events its requests
// cause are taken by all three instances from the shared queues, and the outbox relays by
// whichever holds the lease. What crosses instances through HTTP (a write on one instance read on
// another) is tested on purpose, with its one-second bound, in cluster_http_test.cpp.
void TestServer::start_cluster(const app::Config& config) {
  REQUIRE(config.bus.starts_with("amqp://"));
  REQUIRE(postgres_);
  const auto settings = data_dir_ / "instance.json";
  const nlohmann::json off{{"burst", 0}, {"perSecond", 0}};
  std::ofstream(settings) << nlohmann::json{{"accessLog", false},
                                            {"threads", 2},
                                            {"busNamespace", config.bus_namespace},
                                            {"passwordHash", {{"opsLimit", 1}, {"memoryKiB", 8 * 1024}}},
                                            {"rateLimits", {{"login", off}, {"writes", off}, {"reads", off}}}}
                                 .dump();
  const char* n = std::getenv("ESHOP_TEST_INSTANCES");
  const int count = n ? std::max(1, std::atoi(n)) : 3;
  std::vector<std::uint16_t>& ports = instance_ports_;
  for (int i = 0; i < count; ++i) {
    // The first migrates and loads the demo data before the others start.
    instance_args_.push_back({ESHOP_BINARY, "serve", "--config", settings.string(), "--host", "127.0.0.1", "--port",
                              "0", "--data-dir", data_dir_.string(), "--db", "all=" + postgres_->url(), "--bus",
                              config.bus, "--trusted-proxies", "127.0.0.1"});
    instances_.push_back(start_instance(instance_args_.back()));
    const auto line = instances_.back()->wait_for_line("\"msg\":\"listening\"", std::chrono::seconds(60));
    INFO(instances_.back()->output());
    REQUIRE_FALSE(line.empty());
    const auto at = line.find("\"port\":");
    ports.push_back(static_cast<std::uint16_t>(std::stoi(line.substr(at + 7))));
    instance_args_.back()[7] = std::to_string(ports.back());  // a restart takes the same port
  }
  for (auto& instance : instances_) instance->read_in_background();
  balancer_port_ = free_port();
  const auto cfg = data_dir_ / "haproxy.cfg";
  {
    std::ofstream out(cfg);
    out << "global\n    maxconn 2000\n"
           "defaults\n    mode http\n    option forwardfor\n    option redispatch\n    retries 2\n"
           "    retry-on conn-failure\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    timeout check 2s\n"
           "    errorfile 502 " ESHOP_SOURCE_DIR "/config/haproxy/502.http\n"
           "    errorfile 503 " ESHOP_SOURCE_DIR "/config/haproxy/503.http\n"
           "    errorfile 504 " ESHOP_SOURCE_DIR "/config/haproxy/504.http\n"
           "frontend shop\n    bind 127.0.0.1:"
        << balancer_port_
        << "\n    default_backend instances\n"
           "backend instances\n    balance source\n    option httpchk GET /health/ready\n"
           "    http-check expect status 200\n    default-server inter 200ms fall 2 rise 1\n";
    for (std::size_t i = 0; i < ports.size(); ++i)
      out << "    server instance-" << i + 1 << " 127.0.0.1:" << ports[i] << " check\n";
  }
  balancer_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/haproxy", "-f", cfg.string(), "-db"});
  balancer_->read_in_background();
  REQUIRE(eventually([&] {
    try {
      return http::Client("127.0.0.1", balancer_port_).get("/health/ready").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
}

void TestServer::start_split(app::Config config) {
  REQUIRE(config.bus.starts_with("amqp://"));
  const auto service_config = data_dir_ / "ordering-service.json";
  std::ofstream(service_config) << nlohmann::json{{"accessLog", false}, {"busNamespace", config.bus_namespace}}.dump();
  // The gateway's port must be known before it binds (ordering asks identity through it), and
  // another test may take a probed port first: then try again with another.
  for (int attempt = 0;; ++attempt) {
    const auto main_port = free_port();
    std::vector<std::string> args{
        ESHOP_BINARY, "serve", "--config", service_config.string(), "--modules", "ordering", "--remote",
        "identity=http://127.0.0.1:" + std::to_string(main_port), "--bus", config.bus, "--host", "127.0.0.1",
        "--port", "0", "--data-dir", data_dir_.string()};
    if (postgres_) args.insert(args.end(), {"--db", "all=" + postgres_->url()});
    ordering_ = std::make_unique<Child>(args);
    const auto line = ordering_->wait_for_line("\"msg\":\"listening\"");
    REQUIRE_FALSE(line.empty());
    auto gateway = config;
    gateway.modules = {"identity", "catalog", "discount", "basket"};
    gateway.remotes["ordering"] = "http://127.0.0.1:" + std::to_string(nlohmann::json::parse(line).at("port").get<int>());
    gateway.port = main_port;
    app_ = std::make_unique<app::App>(std::move(gateway));
    try {
      app_->start();
      return;
    } catch (const std::exception&) {
      if (attempt >= 5) throw;
      app_.reset();
      kill(ordering_->pid(), SIGTERM);
      ordering_->wait_exit();
      ordering_.reset();
    }
  }
}

TestServer::TestServer(app::Config config, app::Ports ports) : data_dir_(config.data_dir) {
  use_postgres(config);
  app_ = std::make_unique<app::App>(std::move(config), ports);
  app_->start();
}

TestServer::~TestServer() {
  balancer_.reset();
  stop();
  app_.reset();
  if (ordering_) {
    kill(ordering_->pid(), SIGTERM);
    ordering_->wait_exit();
  }
}

std::string TestServer::login(const std::string& email, const std::string& password) const {
  auto c = client();
  const auto res = c.post("/api/v1/identity/login", nlohmann::json{{"email", email}, {"password", password}}.dump());
  INFO(res.body);
  REQUIRE(res.status == 200);
  return body_of(res).at("token").get<std::string>();
}

std::string TestServer::customer_token(const std::string& email) const {
  auto c = client();
  const auto res = c.post("/api/v1/identity/register",
                          nlohmann::json{{"email", email}, {"password", "password-123"}, {"name", "Test Customer"}}.dump());
  INFO(res.body);
  REQUIRE(res.status == 201);
  return login(email, "password-123");
}

std::int64_t TestServer::count(const std::string& module, const std::string& query) const {
  const auto location = postgres_ ? postgres_->url() : (data_dir_ / (module + ".db")).string();
  auto db = Database::open(location, {.schema = module, .pool_size = 1});
  return db->read([&](Tx& tx) {
    auto& q = tx.statement(query);
    return q.next() ? q.int64(0) : std::int64_t{-1};
  });
}

std::string TestServer::dump(const std::string& module, const std::vector<std::string>& tables) const {
  REQUIRE(postgres_);
  auto db = Database::open(postgres_->url(), {.schema = module, .pool_size = 1});
  std::string out;
  db->read([&](Tx& tx) {
    for (const auto& t : tables) {
      auto& q = tx.statement("SELECT r::text FROM " + t + " r");
      while (q.next()) out += q.text(0) + "\n";
    }
  });
  return out;
}

nlohmann::json body_of(const http::Response& response) {
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  INFO(response.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace eshop::test
