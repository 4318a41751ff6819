#pragma once
// Routes "/api/v1/catalog/products/{id}"-style patterns to handlers.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/http.hpp>

namespace eshop::http {

// The throttle bucket a route draws from (the edge keeps one per client and group). `standard`
// means reads for GET and HEAD, writes for the rest; `login` is for routes that take a password or
// create an account, which a guesser or a flood would hit.
enum class Throttle { standard, login };

// Where a route's handler runs. `worker`: on the worker pool, where it may wait on a database or
// another process. `io_thread`: on the connection's I/O thread, when this process can answer it
// without waiting (its module's collaborators in memory, the module not moving); the handler then
// answers at once or defers (see http::Later), and itself sends to a worker what may block.
enum class Runs { worker, io_thread };

struct Route {
  std::string method;
  std::string pattern;  // as documented in the OpenAPI document
  std::string module;   // the owning module, for metrics, logs and topology
  Access access = Access::anyone;
  Throttle throttle = Throttle::standard;
  Runs runs = Runs::worker;
  Handler handler;
  std::vector<std::string> segments;  // pattern split on '/'; "{x}" marks a parameter
};

struct RouteMatch {
  const Route* route = nullptr;  // null: nothing matched
  bool path_known = false;       // the path matched some route, but not with this method (405)
  std::string allow;             // the methods that would match, for 405
};

class Router final {
 public:
  // Routes added through a scope are owned by `module`.
  class Scope {
   public:
    Scope(Router& router, std::string module) : router_(router), module_(std::move(module)) {}
    void add(std::string method, std::string pattern, Access access, Handler handler,
             Throttle throttle = Throttle::standard) {
      router_.add(std::move(method), std::move(pattern), module_, access, std::move(handler), throttle);
    }
    void get(std::string p, Access a, Handler h) { add("GET", std::move(p), a, std::move(h)); }
    void post(std::string p, Access a, Handler h, Throttle t = Throttle::standard) {
      add("POST", std::move(p), a, std::move(h), t);
    }
    void put(std::string p, Access a, Handler h) { add("PUT", std::move(p), a, std::move(h)); }
    void del(std::string p, Access a, Handler h) { add("DELETE", std::move(p), a, std::move(h)); }
    // The route just added runs on the I/O thread (see Runs).
    void on_io_thread() { router_.routes_.back()->runs = Runs::io_thread; }

   private:
    Router& router_;
    std::string module_;
  };

  Scope scope(std::string module) { return Scope(*this, std::move(module)); }
  void add(std::string method, std::string pattern, std::string module, Access access, Handler handler,
           Throttle throttle = Throttle::standard);
  // Fills `request.path_params` on a match.
  RouteMatch match(Request& request) const;
  // The route `request` would match, with nothing filled in; null for none.
  const Route* find(const Request& request) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace eshop::http
