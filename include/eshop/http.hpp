#pragma once
// The kernel's HTTP types. Modules see only these, never the transport (Beast).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <eshop/auth.hpp>

namespace eshop::http {

// Header names compare case-insensitively; order is kept.
class Headers {
 public:
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  void reserve(std::size_t n) { fields_.reserve(n); }
  void set(std::string_view name, std::string value);
  // Removes every field of that name.
  void remove(std::string_view name);
  // The first value of `name`, or empty.
  std::string_view get(std::string_view name) const;
  bool contains(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

class Deferral;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as received: "/api/v1/catalog/products?page=2"
  Headers headers;
  std::string body;

  // Filled by the edge before a handler runs.
  std::string remote_address;  // the peer's IP address
  std::string client_address;  // the client's: the peer's, or a trusted proxy's word for it
  std::string request_id;
  std::optional<Principal> user;
  std::vector<std::pair<std::string, std::string>> path_params;
  // Set while the handler runs on an I/O thread (see http::Runs); null on a worker. Such a handler
  // must not block: it answers at once, or takes defer() and answers later (http::Later).
  Deferral* deferral = nullptr;

  std::string_view path() const;
  std::string_view query_string() const;
  std::string_view header(std::string_view name) const { return headers.get(name); }
  // A path parameter ("{id}" in the route pattern), percent-decoded.
  std::string_view param(std::string_view name) const;
  // A path parameter that must be a whole number of 1 or more (an id); nullopt otherwise.
  std::optional<std::int64_t> id_param(std::string_view name) const;
  // Every value of a query parameter, percent-decoded, in order.
  std::vector<std::string> query_all(std::string_view name) const;
  // The first value of a query parameter.
  std::optional<std::string> query(std::string_view name) const;

 private:
  // The query string, decoded once on first use (the edge sets `target` before anyone asks).
  const std::vector<std::pair<std::string, std::string>>& query_params() const;
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> query_params_;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Instead of `body`: bytes borrowed from a cache that outlives the response (a catalog page, a
  // product), sent without a copy per request. Read a response's bytes with body_view().
  std::shared_ptr<const std::string> shared_body;

  std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }

  static Response json(int status, std::string body);
  static Response json(int status, const nlohmann::json& body);
  static Response json(int status, const nlohmann::ordered_json& body);
  static Response no_content();
  // What a handler returns when it took Request::defer(): the answer comes through the Later.
  static Response deferred();
  bool is_deferred() const { return status == 0; }
};

// A request answered after its handler returned: taken from Request::defer() on an I/O thread.
// Exactly one of respond() and offload() is called, once, from any thread. The answer goes
// through the edge's last steps (request id, CORS, metrics, access log) like any other.
class Later {
 public:
  virtual ~Later() = default;
  // `answer` runs on the connection's I/O thread: it must not block (no database, no remote call).
  virtual void respond(std::function<Response()> answer) = 0;
  // `answer` runs on a worker, where it may block.
  virtual void offload(std::function<Response()> answer) = 0;
};

// What the edge gives a request on an I/O thread: the Later to answer it with.
class Deferral {
 public:
  // Once per request; clears Request::deferral (what runs the request later must not defer it).
  virtual std::shared_ptr<Later> take() = 0;

 protected:
  ~Deferral() = default;
};

// The request's Later, to answer it after the handler returns (which then returns
// Response::deferred(), and only then); only where Request::deferral is set. The request stays
// valid until the answer is given.
std::shared_ptr<Later> defer(const Request& request);
// Runs `answer` where it may block: at once on a worker; from an I/O thread, offloaded to one.
Response blocking(Request& request, std::function<Response()> answer);

using Handler = std::function<Response(Request&)>;

// Who may call a route; enforced once, at the edge, before the handler runs. `user_or_guest`: a
// bearer token, when one is sent, must be valid (request.user is then set); without one the
// handler runs for a guest (request.user empty) and decides what a guest may do.
enum class Access { anyone, user, admin, user_or_guest };

// A 200 JSON response with an ETag, or 304 when If-None-Match already names that ETag.
Response conditional_json(const Request& request, const std::string& body, const std::string& etag);
// The same with a borrowed body: nothing is copied.
Response conditional_json(const Request& request, std::shared_ptr<const std::string> body, const std::string& etag);

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive), or empty.
std::string_view bearer_token(const Request& request);
std::string percent_decode(std::string_view s, bool plus_is_space);
// A request target in origin form ("/path?query") as it is; in absolute form ("http://host/path?q")
// reduced to origin form; nullopt for anything else (a bare "path", "*", "host:port").
std::optional<std::string> origin_form(std::string_view target);
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
std::string_view reason_phrase(int status);

}  // namespace eshop::http
