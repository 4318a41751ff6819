#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

#include "app/config.hpp"

using namespace eshop::app;

namespace {

struct ConfigFile {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("eshop-config-" + std::to_string(::getpid()) + ".json");
  explicit ConfigFile(const std::string& text) { std::ofstream(path) << text; }
  ~ConfigFile() { std::filesystem::remove(path); }
};

std::variant<Config, int> parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "eshop");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(),
                            [env](const std::string& name) -> std::optional<std::string> {
                              const auto it = env.find(name);
                              return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
                            });
}

}  // namespace

TEST_CASE("serve runs with the documented defaults", "[app][unit]") {
  const auto parsed = parse({"serve"});
  REQUIRE(std::holds_alternative<Config>(parsed));
  const auto& c = std::get<Config>(parsed);
  CHECK(c.port == 8080);
  CHECK(c.data_dir == "./data");
  CHECK(c.modules == std::vector<std::string>{"identity", "catalog", "discount", "basket", "ordering"});
  CHECK(c.bus == "inproc");
  CHECK(c.currency == "USD");
}

TEST_CASE("flags beat the environment, which beats the config file", "[app][unit]") {
  ConfigFile file(R"({"port": 9000, "dataDir": "/from/file", "currency": "EUR", "threads": 3})");
  const auto parsed = parse({"serve", "--config", file.path.string(), "--port", "9002"},
                            {{"ESHOP_PORT", "9001"}, {"ESHOP_DATA_DIR", "/from/env"}});
  REQUIRE(std::holds_alternative<Config>(parsed));
  const auto& c = std::get<Config>(parsed);
  CHECK(c.port == 9002);
  CHECK(c.data_dir == "/from/env");
  CHECK(c.currency == "EUR");
  CHECK(c.threads == 3);
}

TEST_CASE("the config file can come from ESHOP_CONFIG", "[app][unit]") {
  ConfigFile file(R"({"modules": ["catalog"], "accessLog": false})");
  const auto parsed = parse({"serve"}, {{"ESHOP_CONFIG", file.path.string()}});
  REQUIRE(std::holds_alternative<Config>(parsed));
  CHECK(std::get<Config>(parsed).modules == std::vector<std::string>{"catalog"});
  CHECK_FALSE(std::get<Config>(parsed).access_log);
}

TEST_CASE("the admin account comes only from the environment", "[app][unit]") {
  const auto parsed = parse({"serve"}, {{"ESHOP_ADMIN_EMAIL", "a@b.co"}, {"ESHOP_ADMIN_PASSWORD", "secret-123"}});
  REQUIRE(std::holds_alternative<Config>(parsed));
  CHECK(std::get<Config>(parsed).admin_email == "a@b.co");
  CHECK(std::get<Config>(parsed).admin_password == "secret-123");
}

TEST_CASE("bad configuration is refused with exit code 2", "[app][unit]") {
  CHECK(std::get<int>(parse({"serve", "--port", "70000"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--port", "80x"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--modules", "identity,warehouse"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--log-level", "loud"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--modules", "basket,catalog"})) == 2);  // basket needs discount here
  ConfigFile unknown_key(R"({"prot": 1})");
  CHECK(std::get<int>(parse({"serve", "--config", unknown_key.path.string()})) == 2);
}

TEST_CASE("--help exits 0 and no subcommand is an error", "[app][unit]") {
  CHECK(std::get<int>(parse({"--help"})) == 0);
  CHECK(std::get<int>(parse({})) != 0);
}

TEST_CASE("rate limits come from the config file, per route group", "[app][unit]") {
  ConfigFile file(R"({"rateLimits": {"login": {"burst": 3, "perSecond": 0.25}, "reads": {"perSecond": 0}}})");
  const auto parsed = parse({"serve", "--config", file.path.string()});
  REQUIRE(std::holds_alternative<Config>(parsed));
  const auto& limits = std::get<Config>(parsed).rate_limits;
  CHECK(limits.login.burst == 3);
  CHECK(limits.login.per_second == 0.25);
  CHECK(limits.reads.per_second == 0);
  CHECK(limits.writes.burst == 200);  // untouched default
}

TEST_CASE("the inbox's retention comes from the config file, in days, 7 by default", "[app][unit]") {
  CHECK(std::get<Config>(parse({"serve"})).inbox_retention_days == 7);
  ConfigFile thirty(R"({"inboxRetentionDays": 30})");
  const auto parsed = parse({"serve", "--config", thirty.path.string()});
  REQUIRE(std::holds_alternative<Config>(parsed));
  CHECK(std::get<Config>(parsed).inbox_retention_days == 30);
  ConfigFile none(R"({"inboxRetentionDays": 0})");
  CHECK(std::get<int>(parse({"serve", "--config", none.path.string()})) == 2);
  ConfigFile text(R"({"inboxRetentionDays": "week"})");
  CHECK(std::get<int>(parse({"serve", "--config", text.path.string()})) == 2);
}

TEST_CASE("the ready-made wirings in config/ are valid", "[app][unit]") {
  for (const auto* name : {"default.json", "monolith.json", "monolith-rabbitmq.json", "split-gateway.json",
                           "split-ordering.json"}) {
    INFO(name);
    const auto parsed = parse({"serve", "--config", std::string(ESHOP_SOURCE_DIR) + "/config/" + name});
    REQUIRE(std::holds_alternative<Config>(parsed));
  }
  const auto ordering = std::get<Config>(parse({"serve", "--config", std::string(ESHOP_SOURCE_DIR) + "/config/split-ordering.json"}));
  CHECK(ordering.modules == std::vector<std::string>{"ordering"});
  CHECK(ordering.remotes.at("identity") == "http://127.0.0.1:8080");
}

TEST_CASE("remote modules are checked: known, not also local, http URLs", "[app][unit]") {
  CHECK(std::get<int>(parse({"serve", "--modules", "ordering", "--remote", "warehouse=http://x:1"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--modules", "ordering", "--remote", "ordering=http://x:1"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--modules", "basket,discount", "--remote", "catalog=ftp://x"})) == 2);
  CHECK(std::get<int>(parse({"serve", "--modules", "basket,discount", "--remote", "catalog=http://no-port"})) == 2);
  const auto ok = parse({"serve", "--modules", "basket,discount", "--remote", "catalog=http://127.0.0.1:9000"});
  REQUIRE(std::holds_alternative<Config>(ok));
  CHECK(std::get<Config>(ok).remotes.at("catalog") == "http://127.0.0.1:9000");
}
