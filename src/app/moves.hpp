#pragma once
// Live relocation of a module between two eshop processes (the strangler step, while the shop
// serves), and the live swap of the event transport a move needs. See README "Moving a module
// while the shop runs" for what a move hands over, in which order, and its limits.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <eshop/router.hpp>

#include "app/module_gates.hpp"

namespace eshop::app {

// "amqp://user:secret@host:5672/vhost" -> "amqp://host:5672/vhost": what answers and logs may say.
std::string without_credentials(const std::string& url);

// What the mover needs from the process that hosts modules (implemented by the App).
class ModuleHost {
 public:
  virtual ~ModuleHost() = default;
  // Builds `module` on its database file in the data directory (already in place), starts its
  // relay and its subscriptions and adds its routes. Throws, leaving nothing behind, on failure
  // (NewerSchema for a database of a newer build).
  virtual void host(const std::string& module) = 0;
  // Stops taking its events (running handlers finish), delivers its outbox until it is empty or
  // `deadline` comes, and stops its relay. Returns the events left in the outbox (they travel with
  // the database). Throws when the module cannot be stopped (the caller resumes it).
  virtual std::int64_t quiesce(const std::string& module, std::chrono::steady_clock::time_point deadline) = 0;
  // Undoes quiesce(): the module takes its events again.
  virtual void resume(const std::string& module) = 0;
  // A consistent copy of the module's database, as a file at `path`.
  virtual void backup(const std::string& module, const std::string& path) = 0;
  // Removes the quiesced module from this process: its routes, the module, its database (the file
  // is kept aside, and a marker says where the module went: see App's start-up check).
  virtual void unhost(const std::string& module, const std::string& moved_to) = 0;
  // Why this process cannot host `module` (a module it calls is neither here nor remote), or empty.
  virtual std::string cannot_host(const std::string& module) const = 0;
  // True when the module's data is a SQLite file here (a move copies it); false on PostgreSQL.
  virtual bool data_in_file(const std::string& module) const = 0;
  // Replaces the in-process bus by RabbitMQ at `url`, live. Throws when the broker is unreachable
  // (nothing changed then).
  virtual void swap_bus(const std::string& url) = 0;
  virtual std::string bus_url() const = 0;
  virtual std::string data_dir() const = 0;
  virtual std::string own_url() const = 0;
  virtual std::string bus_namespace() const = 0;
  // This process's id for this run (a UUID): the topology says it, so a move can tell itself apart.
  virtual std::string instance() const = 0;
};

class Mover final {
 public:
  Mover(ModuleHost& host, ModuleGates& gates, std::string version);
  // The admin routes: move, adopt, abandon, snapshot, bus swap.
  void register_routes(http::Router& router);
  // The last move's outcome, for the topology (null before any).
  nlohmann::json last_move() const;

 private:
  http::Response move(http::Request& request);
  http::Response adopt(http::Request& request);
  http::Response abandon(http::Request& request);
  http::Response snapshot(http::Request& request);
  http::Response swap_bus(http::Request& request);
  void record(nlohmann::json outcome);
  // Why the target (as its topology describes it) cannot host `module`, or empty.
  std::string target_cannot_host(const nlohmann::json& topology, const std::string& module) const;

  ModuleHost& host_;
  ModuleGates& gates_;
  std::string version_;
  std::mutex move_mutex_;  // one move (or adoption, or bus swap) at a time
  mutable std::mutex state_mutex_;
  nlohmann::json last_move_;
  // The snapshot offered to the target of the running move.
  struct Offer {
    std::string module, move_id, token, bytes, sha256;
  };
  std::optional<Offer> offer_;  // under state_mutex_
  // The move this process last adopted a module by (for abandon).
  std::string adopted_move_id_, adopted_module_, adopted_from_;  // under state_mutex_
};

}  // namespace eshop::app
