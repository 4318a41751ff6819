#include "app/module_gates.hpp"

#include <thread>

#include "app/config.hpp"
#include "app/modules.hpp"

namespace eshop::app {

std::string_view to_string(Place place) {
  switch (place) {
    case Place::local: return "local";
    case Place::remote: return "remote";
    case Place::absent: break;
  }
  return "absent";
}

ModuleGates::ModuleGates(const Config& config) {
  for (const auto* d : known_modules()) {
    auto gate = std::make_unique<Gate>();
    gate->descriptor = d;
    // A module can move while the shop runs when no other module calls its interface in-process
    // (those callers would hold a dangling reference) and it is not the one every process
    // authenticates through.
    bool used = false;
    for (const auto* other : known_modules())
      for (const auto& u : other->uses) used = used || u == d->name;
    gate->movable = d->movable_live && !used;
    const std::string name(d->name);
    if (config.hosts(name)) {
      gate->place = Place::local;
    } else if (const auto it = config.remotes.find(name); it != config.remotes.end()) {
      gate->place = Place::remote;
      gate->url = it->second;
    }
    gates_.push_back(std::move(gate));
  }
}

ModuleGates::Gate* ModuleGates::find(std::string_view module) const {
  for (const auto& g : gates_)
    if (g->descriptor->name == module) return g.get();
  return nullptr;
}

bool ModuleGates::movable(std::string_view module) const {
  const auto* g = find(module);
  return g && g->movable;
}

const ModuleDescriptor* ModuleGates::module_for_path(std::string_view path) const {
  for (const auto& g : gates_) {
    const std::string_view prefix = g->descriptor->route_prefix;
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) return g->descriptor;
  }
  return nullptr;
}

ModuleGates::Way ModuleGates::enter(std::string_view module, std::chrono::milliseconds max_wait) {
  Gate* g = find(module);
  if (!g) return {Place::local, {}, false};  // not a module's route: operations
  if (!g->movable) {
    // Never moves: where it is, is where it was configured (the URL is never written again).
    const Place p = g->place.load();
    return {p, p == Place::remote ? g->url : std::string(), false};
  }
  if (enter_if_local(*g)) return {Place::local, {}, false};
  std::unique_lock lock(mutex_);
  if (g->held.load() && waiting_ >= kMaxWaiting) return {Place::absent, {}, true};
  ++waiting_;
  const bool released = released_.wait_for(lock, max_wait, [&] { return !g->held.load(); });
  --waiting_;
  if (!released) return {Place::absent, {}, true};
  const Place p = g->place.load();
  if (p == Place::local) g->in_flight.fetch_add(1);  // under the lock: no hold can start meanwhile
  return {p, p == Place::remote ? g->url : std::string(), false};
}

// The fast path, with no lock: counted in first, then the hold looked at. The mover sets the hold
// first, then reads the count, so either it sees this request or this request sees it.
bool ModuleGates::enter_if_local(Gate& g) {
  g.in_flight.fetch_add(1);
  if (!g.held.load() && g.place.load() == Place::local) return true;
  g.in_flight.fetch_sub(1);
  return false;
}

bool ModuleGates::try_enter_local(std::string_view module) {
  Gate* g = find(module);
  if (!g) return true;  // not a module's route: operations
  if (!g->movable) return g->place.load() == Place::local;
  return enter_if_local(*g);
}

void ModuleGates::leave(std::string_view module) {
  Gate* g = find(module);
  if (g && g->movable) g->in_flight.fetch_sub(1);
}

void ModuleGates::hold(std::string_view module) {
  Gate* g = find(module);
  std::lock_guard lock(mutex_);
  g->held.store(true);
}

bool ModuleGates::drained(std::string_view module, std::chrono::steady_clock::time_point deadline) {
  Gate* g = find(module);
  while (g->in_flight.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void ModuleGates::release(std::string_view module, Place place, std::string url) {
  Gate* g = find(module);
  {
    std::lock_guard lock(mutex_);
    g->url = std::move(url);
    g->place.store(place);
    g->held.store(false);
  }
  released_.notify_all();
}

std::vector<ModuleGates::View> ModuleGates::view() const {
  std::lock_guard lock(mutex_);
  std::vector<View> out;
  for (const auto& g : gates_)
    out.push_back({std::string(g->descriptor->name), g->place.load(), g->url, g->held.load()});
  return out;
}

Place ModuleGates::place(std::string_view module) const {
  const auto* g = find(module);
  return g ? g->place.load() : Place::absent;
}

std::string ModuleGates::url(std::string_view module) const {
  std::lock_guard lock(mutex_);
  const auto* g = find(module);
  return g ? g->url : std::string();
}

}  // namespace eshop::app
