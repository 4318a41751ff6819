#pragma once
// Where each module of the shop is served from, as this process sees it, and the gate its requests
// pass on the way in. A module is local (its routes run here), remote (proxied to the process at a
// URL) or absent. While a module moves, its gate is held: new requests for it wait, the requests
// already inside finish, and when the hand-over is done the waiting ones go where it now lives.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/module.hpp>

namespace eshop::app {

struct Config;

enum class Place { absent, local, remote };
std::string_view to_string(Place place);

class ModuleGates final {
 public:
  // From the configuration: hosted modules are local, those named by --remote remote.
  explicit ModuleGates(const Config& config);

  struct Way {
    Place place = Place::absent;
    std::string url;         // remote: the base URL of the process that hosts it
    bool timed_out = false;  // the hand-over took longer than the wait allowed
  };

  // A request for `module` comes in. Waits while the module is held (at most `max_wait`, and only
  // when fewer than kMaxWaiting requests wait already: each waits on a worker thread, and the
  // hand-over itself needs some). When the answer is local, the caller runs the route and then
  // calls leave().
  static constexpr int kMaxWaiting = 16;
  Way enter(std::string_view module, std::chrono::milliseconds max_wait);
  void leave(std::string_view module);
  // enter() without waiting: true when the module is served here and not held, and the caller then
  // runs the route and calls leave(); false otherwise (held, elsewhere, absent), with nothing to leave.
  bool try_enter_local(std::string_view module);

  // The module whose route prefix starts `path`, or null.
  const ModuleDescriptor* module_for_path(std::string_view path) const;
  bool known(std::string_view module) const { return find(module) != nullptr; }
  bool movable(std::string_view module) const;

  // The mover's side. hold(): new requests wait; drained(): the requests inside have left
  // (false when they had not by `deadline`); then the module is released to where it now lives.
  void hold(std::string_view module);
  bool drained(std::string_view module, std::chrono::steady_clock::time_point deadline);
  void release(std::string_view module, Place place, std::string url = {});

  struct View {
    std::string module;
    Place place;
    std::string url;
    bool held;
  };
  std::vector<View> view() const;
  Place place(std::string_view module) const;
  std::string url(std::string_view module) const;

 private:
  struct Gate {
    const ModuleDescriptor* descriptor;
    bool movable;
    std::atomic<int> in_flight{0};
    std::atomic<bool> held{false};
    std::atomic<Place> place{Place::absent};
    std::string url;  // under mutex_
  };
  Gate* find(std::string_view module) const;
  bool enter_if_local(Gate& g);  // counted in when the module is here and not held

  mutable std::mutex mutex_;
  std::condition_variable released_;
  int waiting_ = 0;  // under mutex_
  std::vector<std::unique_ptr<Gate>> gates_;
};

}  // namespace eshop::app
