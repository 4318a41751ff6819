#pragma once
// Configuration: built-in defaults < config file < ESHOP_* environment < command-line flags.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "app/modules.hpp"
#include "app/rate_limiter.hpp"

namespace eshop::app {

// What `--version` says; a module moves only between processes that say the same.
inline constexpr const char* kVersion = "eshop 0.1.0";

struct Config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string data_dir = "./data";
  std::vector<std::string> modules = module_names();  // all
  std::map<std::string, std::string> remotes;  // module -> base URL
  // module -> database: a postgresql:// URL, or a SQLite file. "all" sets every module's that is
  // not named. Unset: <dataDir>/<module>.db. See database_of().
  std::map<std::string, std::string> databases;
  std::string bus = "inproc";            // or amqp://user:pass@host:port/vhost
  std::string bus_namespace = "eshop";   // AMQP exchange and queue prefix: one per shop
  // The test payment provider's ledger; processes of one shop share it (default <data-dir>/payments.db).
  std::string payments_ledger;
  RateLimits rate_limits;  // per client and route group; a perSecond of 0 switches one off
  std::string currency = "USD";
  int threads = 0;  // 0: one I/O thread per core
  std::string log_level = "info";
  bool access_log = true;
  bool demo_data = true;
  int token_ttl_hours = 24;
  // How long a module's inbox remembers a handled event (to drop its redeliveries); older records
  // are deleted by the module's relay, hourly.
  int inbox_retention_days = 7;
  int idle_timeout_seconds = 30;
  int saga_step_delay_ms = 0;  // slow motion for demonstrations: each saga step waits this long
  unsigned long long password_ops_limit = 2;
  std::size_t password_mem_kib = 19 * 1024;
  std::string admin_email;     // ESHOP_ADMIN_EMAIL only
  std::string admin_password;  // ESHOP_ADMIN_PASSWORD only: never a flag, never a file
  // ESHOP_ADMIN_PROMOTE_EXISTING=true only: make an account that registered itself under
  // admin_email the admin (refused, with a log line, without it).
  bool admin_promote_existing = false;
  // Open connections at most; more are closed at once and counted. 0: the fd limit less a reserve.
  int max_connections = 0;
  // Peers whose Forwarded / X-Forwarded-For header is believed: addresses or CIDR networks.
  std::vector<std::string> trusted_proxies;
  std::string forwarded_header = "X-Forwarded-For";
  // Browser origins allowed to call the API (CORS), e.g. "https://shop.example"; "*" for any.
  // Empty (the default): same-origin only.
  std::vector<std::string> cors_origins;  // or "Forwarded" (RFC 7239): the one the proxy sets

  bool hosts(const std::string& module) const;
  // Where `module` keeps its data: its --db entry, else the "all" entry, else <dataDir>/<module>.db.
  std::string database_of(const std::string& module) const;
};

// Overlays the keys present in a config document (see config/default.json) onto `config`.
// Throws std::invalid_argument naming the key for a wrong type or an unknown key.
void apply_config_json(Config& config, const nlohmann::json& document);
// Checks values that no single source can: module names, the bus, port ranges.
void validate(const Config& config);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Parses `eshop serve [flags]`. Returns the Config to serve with, or an exit code after
// printing help, the version or an error.
std::variant<Config, int> parse_command_line(int argc, const char* const* argv, const EnvLookup& env);

}  // namespace eshop::app
