#include "app/moves.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <eshop/crypto.hpp>
#include <eshop/database.hpp>
#include <eshop/http_client.hpp>
#include <eshop/json_body.hpp>
#include <eshop/problem.hpp>
#include <eshop/remote.hpp>
#include <spdlog/spdlog.h>

#include "adapters/durable_file.hpp"
#include "app/logging.hpp"
#include "app/modules.hpp"

namespace eshop::app {

std::string without_credentials(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kMoveTimeout = std::chrono::seconds(15);   // the whole hand-over, else it is undone
constexpr auto kDrainTimeout = std::chrono::seconds(5);   // requests inside the module finish
constexpr auto kFlushTimeout = std::chrono::seconds(2);   // its outbox to the broker; the rest travels along
constexpr auto kAskTimeout = std::chrono::seconds(2);     // the target's topology

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::chrono::milliseconds left(Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(ms, std::chrono::milliseconds(1));
}

http::Response refuse(int status, const std::string& detail) { return http::problem(status, detail); }

// A call to the other process of a move, with the caller's credentials.
http::Response call(const std::string& base_url, std::string method, std::string target, std::string body,
                    std::chrono::milliseconds timeout, const std::vector<std::pair<std::string, std::string>>& headers) {
  const auto endpoint = remote::parse_base_url(base_url);
  if (!endpoint) throw std::invalid_argument("not an http://host:port URL: " + base_url);
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!r.body.empty()) r.headers.add("Content-Type", "application/json");
  for (const auto& [name, value] : headers) r.headers.add(name, value);
  http::Client client(endpoint->host, endpoint->port, timeout);
  return client.send(r);
}

std::string problem_detail(const http::Response& response) {
  try {
    const auto j = nlohmann::json::parse(response.body);
    if (j.contains("detail") && j["detail"].is_string()) return j["detail"].get<std::string>();
  } catch (const std::exception&) {
  }
  return "HTTP " + std::to_string(response.status);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::move(bytes).str();
}

// Test-only fault injection: the target pauses this long inside an adoption, so a test can kill it
// there (ESHOP_FAULT_ADOPT_DELAY_MS; never set in production).
std::chrono::milliseconds adopt_fault_delay() {
  const char* v = std::getenv("ESHOP_FAULT_ADOPT_DELAY_MS");
  return std::chrono::milliseconds(v ? std::atoi(v) : 0);
}

}  // namespace

Mover::Mover(ModuleHost& host, ModuleGates& gates, std::string version)
    : host_(host), gates_(gates), version_(std::move(version)) {}

nlohmann::json Mover::last_move() const {
  std::lock_guard lock(state_mutex_);
  return last_move_;
}

void Mover::record(nlohmann::json outcome) {
  const bool ok = outcome.value("outcome", "") == "moved" || outcome.value("outcome", "") == "adopted" ||
                  outcome.value("outcome", "") == "swapped";
  if (ok) spdlog::info("\"msg\":\"module move\",\"move\":{}", outcome.dump());
  else spdlog::error("\"msg\":\"module move failed\",\"move\":{}", outcome.dump());
  flush_logs();
  std::lock_guard lock(state_mutex_);
  last_move_ = std::move(outcome);
}

void Mover::register_routes(http::Router& router) {
  auto r = router.scope("operations");
  using http::Access;
  r.post("/api/v1/admin/modules/{module}/move", Access::admin, [this](http::Request& q) { return move(q); });
  r.post("/api/v1/admin/modules/{module}/adopt", Access::admin, [this](http::Request& q) { return adopt(q); });
  r.post("/api/v1/admin/modules/{module}/abandon", Access::admin, [this](http::Request& q) { return abandon(q); });
  // Fetched by the target of a move, with the move's one-time token (the admin's token would need
  // identity, which may be the very process that is busy handing over).
  r.get("/api/v1/admin/modules/{module}/snapshot", Access::anyone, [this](http::Request& q) { return snapshot(q); });
  r.post("/api/v1/admin/bus", Access::admin, [this](http::Request& q) { return swap_bus(q); });
}

http::Response Mover::swap_bus(http::Request& request) {
  auto body = http::json_object_body(request);
  if (!body) return http::problem(body.error());
  http::FieldReader fields(*body);
  const auto url = fields.string("url", true);
  if (!fields.ok()) return http::problem(fields.to_error());
  if (!url->starts_with("amqp://")) return http::problem(Error::invalid_field("url", "must be an amqp:// URL"));
  std::unique_lock busy(move_mutex_, std::try_to_lock);
  if (!busy) return refuse(409, "Another move or bus swap is running; try again when it has finished.");
  if (host_.bus_url() != "inproc")
    return refuse(409, "The shop already runs on " + without_credentials(host_.bus_url()) +
                           "; only the in-process bus is swapped live (to RabbitMQ).");
  const auto start = Clock::now();
  try {
    host_.swap_bus(*url);
  } catch (const std::exception& e) {
    record({{"operation", "bus"}, {"outcome", "failed"}, {"to", without_credentials(*url)}, {"error", e.what()}});
    return refuse(502, std::string("The bus was not swapped (the shop keeps the in-process bus): ") + e.what());
  }
  nlohmann::json out{{"operation", "bus"}, {"outcome", "swapped"}, {"from", "inproc"},
                     {"to", without_credentials(*url)}, {"handoverMs", ms_since(start)}};
  record(out);
  return http::Response::json(200, out);
}

http::Response Mover::move(http::Request& request) {
  const std::string module(request.param("module"));
  auto body = http::json_object_body(request);
  if (!body) return http::problem(body.error());
  http::FieldReader fields(*body);
  const auto to = fields.string("to", true);
  const auto from = fields.string("from", false);
  const auto bus = fields.string("bus", false);
  if (to && !remote::parse_base_url(*to)) fields.error("to", "must be http://host:port");
  if (from && !remote::parse_base_url(*from)) fields.error("from", "must be http://host:port");
  if (bus && !bus->starts_with("amqp://")) fields.error("bus", "must be an amqp:// URL");
  if (!fields.ok()) return http::problem(fields.to_error());
  if (!gates_.known(module)) return http::problem(Error::not_found("There is no module '" + module + "'."));
  const std::string self = from.value_or(host_.own_url());

  std::unique_lock busy(move_mutex_, std::try_to_lock);
  if (!busy) return refuse(409, "Another move or bus swap is running; try again when it has finished.");
  if (gates_.place(module) != Place::local) return refuse(409, "This process does not host " + module + ".");
  if (!gates_.movable(module))
    return refuse(409, module + " cannot move while the shop runs: other modules call it in-process, or every "
                                "process authenticates through it. Start it split instead (--modules, --remote).");
  if (!host_.data_in_file(module))
    return refuse(409, module + " keeps its data in PostgreSQL: a live move copies a module's SQLite file. Run it in "
                                "more instances on that database instead (scripts/cluster), or start it split.");
  const auto bearer = std::string(request.header("Authorization"));
  nlohmann::json outcome{{"operation", "move"}, {"module", module}, {"from", self}, {"to", *to}};

  // 1. The target: another eshop of the same version, on the same broker, able to host the module.
  nlohmann::json topology;
  try {
    const auto answer = call(*to, "GET", "/api/v1/admin/topology", "", kAskTimeout, {{"Authorization", bearer}});
    if (answer.status != 200)
      return refuse(502, "The target at " + *to + " refused to describe itself: " + problem_detail(answer));
    topology = nlohmann::json::parse(answer.body);
  } catch (const std::exception& e) {
    return refuse(502, "The target at " + *to + " is unreachable: " + e.what() + ". Nothing was changed.");
  }
  if (topology.value("version", "") != version_)
    return refuse(409, "The target runs " + topology.value("version", std::string("an unknown version")) +
                           ", this process " + version_ + ": a module moves only between equal builds.");
  if (topology.value("instance", "") == host_.instance()) return refuse(409, "The target is this process.");
  for (const auto& m : topology.value("modules", nlohmann::json::array()))
    if (m.value("name", "") == module && m.value("location", "") == "local")
      return refuse(409, "The target hosts " + module + " already.");
  // A move needs a broker between the two processes: swap the in-process bus first, live.
  if (host_.bus_url() == "inproc") {
    if (!bus)
      return refuse(409, "The shop runs on the in-process bus; a move needs RabbitMQ between the processes. "
                         "Give \"bus\": \"amqp://...\" (the target's broker) and the bus is swapped first.");
    try {
      const auto start = Clock::now();
      host_.swap_bus(*bus);
      outcome["busSwapMs"] = ms_since(start);
    } catch (const std::exception& e) {
      return refuse(502, std::string("The bus was not swapped, nothing was moved: ") + e.what());
    }
  }
  const auto& target_bus = topology["eventBus"];
  if (target_bus.value("transport", "") != "amqp" ||
      target_bus.value("broker", "") != without_credentials(host_.bus_url()) ||
      target_bus.value("namespace", "") != host_.bus_namespace())
    return refuse(409, "The target's event bus (" + target_bus.value("broker", std::string("?")) +
                           ") is not this process's (" + without_credentials(host_.bus_url()) +
                           "): both must use the same broker and namespace.");
  if (const auto why = target_cannot_host(topology, module); !why.empty()) return refuse(409, why);

  // 2. Hold the module's requests, let those inside finish, stop its events, flush its outbox.
  const auto start = Clock::now();
  const auto deadline = start + kMoveTimeout;
  gates_.hold(module);
  auto undo = [&](int status, const std::string& why) {
    host_.resume(module);
    gates_.release(module, Place::local);
    outcome["outcome"] = "failed";
    outcome["error"] = why;
    outcome["handoverMs"] = ms_since(start);
    record(outcome);
    return refuse(status, why + " The move was undone: " + module + " stays here and serves.");
  };
  // Where the hand-over's time went, phase by phase (drain, quiesce, copy, adopt).
  nlohmann::json phases = nlohmann::json::object();
  auto phase_start = start;
  auto phase_done = [&](const char* name) {
    phases[name] = ms_since(phase_start);
    phase_start = Clock::now();
    outcome["phasesMs"] = phases;
  };
  if (!gates_.drained(module, Clock::now() + kDrainTimeout)) {
    gates_.release(module, Place::local);
    return refuse(503, "Requests to " + module + " did not finish in time; nothing was moved.");
  }
  phase_done("drain");
  try {
    outcome["outboxCarried"] = host_.quiesce(module, std::min(deadline, Clock::now() + kFlushTimeout));
    phase_done("quiesce");
  } catch (const std::exception& e) {
    return undo(503, std::string("Handing over the module's work failed: ") + e.what() + ".");
  }

  // 3. Its data: a consistent copy, offered to the target with a one-time token.
  const std::string move_id = crypto::new_uuid_v7();
  Offer offer{module, move_id, crypto::random_token(32), {}, {}};
  try {
    const auto path = std::filesystem::path(host_.data_dir()) / (".move-" + module + ".db");
    std::filesystem::remove(path);
    host_.backup(module, path.string());
    offer.bytes = read_file(path);
    std::filesystem::remove(path);
    offer.sha256 = crypto::sha256_hex(offer.bytes);
    phase_done("copy");
  } catch (const std::exception& e) {
    return undo(500, std::string("The module's database could not be copied: ") + e.what() + ".");
  }
  const auto bytes = offer.bytes.size();
  const auto token = offer.token;
  {
    std::lock_guard lock(state_mutex_);
    offer_ = std::move(offer);
  }
  struct Withdraw {
    Mover& m;
    ~Withdraw() {
      std::lock_guard lock(m.state_mutex_);
      m.offer_.reset();
    }
  } withdraw{*this};

  // 4. The target adopts it: fetches the copy, checks it, opens it, consumes the module's queue.
  // The target must not take the module once this process may have given up waiting for it.
  const nlohmann::json ask{{"from", self}, {"moveId", move_id}, {"token", token},
                           {"deadlineMs", left(deadline).count() - 1000}};
  try {
    const auto answer = call(*to, "POST", "/api/v1/admin/modules/" + module + "/adopt", ask.dump(), left(deadline),
                             {{"Authorization", bearer}});
    if (answer.status != 200)
      return undo(answer.status == 409 ? 409 : 502, "The target refused the module: " + problem_detail(answer) + ".");
    try {
      outcome["targetPhasesMs"] = nlohmann::json::parse(answer.body).at("phasesMs");
    } catch (const std::exception&) {
    }
  } catch (const std::exception& e) {
    // No answer: the target may have died, or be slow. Tell it to let go, in case it adopted (it
    // answers once an adoption it is still running has ended).
    try {
      call(*to, "POST", "/api/v1/admin/modules/" + module + "/abandon", nlohmann::json{{"moveId", move_id}}.dump(),
           std::chrono::seconds(10), {{"Authorization", bearer}});
    } catch (const std::exception&) {
    }
    return undo(Clock::now() >= deadline ? 504 : 502, std::string("The target did not complete the adoption: ") +
                                                          e.what() + ".");
  }

  phase_done("adopt");

  // 5. Its routes: the waiting requests and every new one go to the target.
  gates_.release(module, Place::remote, *to);
  try {
    host_.unhost(module, *to);
  } catch (const std::exception& e) {
    spdlog::error("\"msg\":\"the moved module's local copy was not removed cleanly\",\"module\":{},\"error\":{}",
                  json_quote(module), json_quote(e.what()));
  }
  outcome["outcome"] = "moved";
  outcome["moveId"] = move_id;
  outcome["bytes"] = bytes;
  outcome["handoverMs"] = ms_since(start);
  record(outcome);
  return http::Response::json(200, outcome);
}

std::string Mover::target_cannot_host(const nlohmann::json& topology, const std::string& module) const {
  const auto* d = find_module(module);
  for (const auto& used : d->uses) {
    bool reachable = false;
    for (const auto& m : topology.value("modules", nlohmann::json::array()))
      if (m.value("name", "") == used && m.value("location", "") != "absent") reachable = true;
    if (!reachable)
      return "The target cannot host " + module + ": it calls " + std::string(used) +
             ", which the target neither hosts nor reaches (start it with --remote " + std::string(used) + "=URL).";
  }
  return {};
}

http::Response Mover::adopt(http::Request& request) {
  const std::string module(request.param("module"));
  auto body = http::json_object_body(request);
  if (!body) return http::problem(body.error());
  http::FieldReader fields(*body);
  const auto from = fields.string("from", true);
  const auto move_id = fields.string("moveId", true);
  const auto token = fields.string("token", true);
  const auto deadline_ms = fields.integer("deadlineMs", false);
  if (from && !remote::parse_base_url(*from)) fields.error("from", "must be http://host:port");
  if (!fields.ok()) return http::problem(fields.to_error());
  if (!gates_.known(module)) return http::problem(Error::not_found("There is no module '" + module + "'."));
  std::unique_lock busy(move_mutex_, std::try_to_lock);
  if (!busy) return refuse(409, "Another move or bus swap is running here; try again when it has finished.");
  if (gates_.place(module) == Place::local) return refuse(409, "This process hosts " + module + " already.");
  if (!gates_.movable(module)) return refuse(409, module + " cannot move while the shop runs.");
  if (host_.bus_url() == "inproc")
    return refuse(409, "This process runs on the in-process bus; it can adopt a module only on RabbitMQ.");
  if (const auto why = host_.cannot_host(module); !why.empty()) return refuse(409, why);
  const auto start = Clock::now();

  // The copy, checked: every byte, as the source hashed it.
  std::string bytes;
  try {
    const auto answer = call(*from, "GET", "/api/v1/admin/modules/" + module + "/snapshot?move=" + *move_id, "",
                             std::chrono::seconds(10), {{"X-Eshop-Move-Token", *token}});
    if (answer.status != 200) return refuse(502, "The source did not hand over the data: " + problem_detail(answer));
    if (crypto::sha256_hex(answer.body) != answer.headers.get("X-Eshop-Sha256"))
      return refuse(502, "The module's data arrived damaged (its SHA-256 differs); nothing was adopted.");
    bytes = std::move(answer.body);
  } catch (const std::exception& e) {
    return refuse(502, std::string("The source at ") + *from + " did not hand over the data: " + e.what());
  }
  const auto fetched = Clock::now();
  if (const auto pause = adopt_fault_delay(); pause.count() > 0) std::this_thread::sleep_for(pause);
  if (deadline_ms && Clock::now() > start + std::chrono::milliseconds(*deadline_ms))
    return refuse(409, "The hand-over took longer than the source waits; nothing was adopted.");

  // In place of whatever an earlier stay left here (kept aside until the module opens).
  const std::filesystem::path dir(host_.data_dir());
  const auto file = dir / (module + ".db");
  const auto previous = dir / (module + ".db.previous");
  auto written = Clock::now();
  try {
    adapters::write_file_durably(dir / (module + ".db.incoming"), bytes);
    std::filesystem::remove(previous);
    if (std::filesystem::exists(file)) std::filesystem::rename(file, previous);
    for (const char* suffix : {".db-wal", ".db-shm"}) std::filesystem::remove(dir / (module + suffix));
    std::filesystem::rename(dir / (module + ".db.incoming"), file);
    adapters::sync_directory(dir);  // the new name, not only the bytes, survives a power cut
    written = Clock::now();
    host_.host(module);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    if (std::filesystem::exists(previous, ignored)) std::filesystem::rename(previous, file, ignored);
    const bool newer = dynamic_cast<const NewerSchema*>(&e) != nullptr;
    record({{"operation", "adopt"}, {"module", module}, {"from", *from}, {"outcome", "failed"}, {"error", e.what()}});
    return refuse(newer ? 409 : 500, std::string("This process cannot open the module's data: ") + e.what());
  }
  // This copy supersedes whatever an earlier stay left here.
  for (const auto& stale : {dir / (module + ".moved.json"), dir / (module + ".db.moved"), previous})
    std::filesystem::remove(stale);
  {
    std::lock_guard lock(state_mutex_);
    adopted_move_id_ = *move_id;
    adopted_module_ = module;
    adopted_from_ = *from;
  }
  gates_.release(module, Place::local);
  nlohmann::json out{{"operation", "adopt"}, {"module", module}, {"from", *from}, {"moveId", *move_id},
                     {"outcome", "adopted"}, {"bytes", bytes.size()}, {"ms", ms_since(start)},
                     {"phasesMs", {{"fetch", ms_since(start) - ms_since(fetched)},
                                   {"write", ms_since(fetched) - ms_since(written)},
                                   {"open", ms_since(written)}}}};
  record(out);
  return http::Response::json(200, out);
}

http::Response Mover::abandon(http::Request& request) {
  const std::string module(request.param("module"));
  auto body = http::json_object_body(request);
  if (!body) return http::problem(body.error());
  http::FieldReader fields(*body);
  const auto move_id = fields.string("moveId", true);
  if (!fields.ok()) return http::problem(fields.to_error());
  std::unique_lock busy(move_mutex_);  // after an adoption still running has finished
  std::string from;
  {
    std::lock_guard lock(state_mutex_);
    if (adopted_move_id_ != *move_id || adopted_module_ != module || gates_.place(module) != Place::local)
      return refuse(409, "This process holds no module adopted by move " + *move_id + ".");
    from = adopted_from_;
    adopted_move_id_.clear();
  }
  // The source took the module back: this copy must not run on beside it.
  gates_.hold(module);
  gates_.drained(module, Clock::now() + kDrainTimeout);
  try {
    host_.quiesce(module, Clock::now() + kDrainTimeout);
  } catch (const std::exception&) {
  }
  host_.unhost(module, from);
  gates_.release(module, Place::remote, from);
  record({{"operation", "abandon"}, {"module", module}, {"moveId", *move_id}, {"outcome", "abandoned"}});
  return http::Response::json(200, nlohmann::json{{"module", module}, {"outcome", "abandoned"}});
}

http::Response Mover::snapshot(http::Request& request) {
  const std::string module(request.param("module"));
  const auto token = request.header("X-Eshop-Move-Token");
  std::lock_guard lock(state_mutex_);
  // Compared as hashes: the time a comparison takes tells nothing about the token.
  if (!offer_ || offer_->module != module || token.empty() ||
      crypto::sha256_hex(token) != crypto::sha256_hex(offer_->token))
    return http::problem(Error::not_found("No hand-over of " + module + " is offered with this token."));
  http::Response res;
  res.headers.add("Content-Type", "application/vnd.sqlite3");
  res.headers.add("X-Eshop-Sha256", offer_->sha256);
  res.body = offer_->bytes;
  return res;
}

}  // namespace eshop::app
