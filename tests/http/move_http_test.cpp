// Live relocation: a module moves from one running eshop process to another and back while
// customers check out, and every refusal and failure leaves the shop serving with nothing lost.
// Real processes (the binary) on the test broker (ESHOP_TEST_AMQP_URL_FILE): hidden from the
// plain run and registered in tests/CMakeLists.txt with the broker fixture.
#include <atomic>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <eshop/database.hpp>

#include "support/child_process.hpp"
#include "support/db_query.hpp"
#include "support/eventually.hpp"
#include "support/test_server.hpp"

using namespace eshop;
using eshop::test::body_of;

namespace {

std::string url_of(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// One eshop process of the shop.
struct Node {
  test::TempDir dir;
  std::uint16_t port = test::free_port();
  std::unique_ptr<test::Child> child;

  void start(std::vector<std::string> flags, std::vector<std::string> env = {}) {
    // Every customer of the test comes from 127.0.0.1: no throttling, and cheap password hashing.
    const auto config = dir.path() / "config.json";
    std::ofstream(config) << R"({"rateLimits":{"login":{"perSecond":0},"writes":{"perSecond":0},"reads":{"perSecond":0}},
                                 "passwordHash":{"opsLimit":1,"memoryKiB":8192}})";
    std::vector<std::string> args{ESHOP_BINARY, "serve", "--config", config.string(), "--host", "127.0.0.1", "--port",
                                  std::to_string(port), "--data-dir", dir.path().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    env.push_back(std::string("ESHOP_ADMIN_EMAIL=") + test::kAdminEmail);
    env.push_back(std::string("ESHOP_ADMIN_PASSWORD=") + test::kAdminPassword);
    child = std::make_unique<test::Child>(args, env);
    REQUIRE_FALSE(child->wait_for_line("\"msg\":\"listening\"").empty());
    child->read_in_background();
  }
  std::string url() const { return url_of(port); }
  http::Client client() const { return http::Client("127.0.0.1", port, std::chrono::seconds(30)); }
};

struct Shop {
  std::string bus = test::amqp_test_url(), name_space = test::test_namespace();
  Node a, b;  // a: the monolith the customers talk to; b: where a module moves
  std::string admin;

  // A: every module; B: none yet, reaching identity in A (and the modules named in b_remotes).
  void start(const std::string& a_bus, std::vector<std::string> b_env = {}, std::vector<std::string> b_remotes = {}) {
    a.start({"--bus", a_bus, "--bus-namespace", name_space, "--trusted-proxies", "127.0.0.1"});
    std::vector<std::string> b_flags{"--modules", "none", "--remote", "identity=" + a.url(), "--bus", bus,
                                     "--bus-namespace", name_space, "--trusted-proxies", "127.0.0.1"};
    for (const auto& module : b_remotes) b_flags.insert(b_flags.end(), {"--remote", module + "=" + a.url()});
    b.start(b_flags, std::move(b_env));
    auto c = a.client();
    const auto login = c.post("/api/v1/identity/login",
                              nlohmann::json{{"email", test::kAdminEmail}, {"password", test::kAdminPassword}}.dump());
    REQUIRE(login.status == 200);
    admin = body_of(login).at("token").get<std::string>();
  }

  http::Response move(const Node& from, const std::string& module, const Node& to, nlohmann::json extra = {}) {
    nlohmann::json body{{"to", to.url()}};
    if (extra.is_object()) body.update(extra);
    return from.client().post("/api/v1/admin/modules/" + module + "/move", body.dump(), admin);
  }

  std::string location(const Node& node, const std::string& module) {
    const auto topology = body_of(node.client().get("/api/v1/admin/topology", admin));
    for (const auto& m : topology.at("modules"))
      if (m.at("name") == module) return m.at("location");
    return "?";
  }

  void set_stock(int product, int stock) {
    REQUIRE(a.client()
                .put("/api/v1/catalog/products/" + std::to_string(product),
                     nlohmann::json{{"availableStock", stock}}.dump(), admin)
                .status == 200);
  }
  int stock(int product) {
    return body_of(a.client().get("/api/v1/catalog/products/" + std::to_string(product))).at("availableStock");
  }
};

const nlohmann::json kCheckout{
    {"shippingAddress",
     {{"fullName", "Ann Lee"}, {"street", "1 Main St"}, {"city", "X"}, {"postalCode", "1"}, {"country", "US"}}},
    {"deliveryNote", ""},
    {"payment", {{"cardNumber", "4242424242424242"}, {"cardHolder", "Ann"}, {"expiry", "12/30"}, {"cvv", "123"}}}};

// A customer who keeps buying one unit of `product` through the shop's front process: every
// request must succeed; the order ids are kept. Runs on threads: no Catch2 macro in here (they are
// not thread-safe), so no body_of() either.
struct Customer {
  std::string token;
  std::vector<std::string> orders;
  std::vector<std::string> failures;

  void buy(http::Client& c, int product) {
    const auto add = c.post("/api/v1/basket/items", nlohmann::json{{"productId", product}, {"quantity", 1}}.dump(), token);
    if (add.status != 200) return failures.push_back("add: " + std::to_string(add.status) + " " + add.body);
    const auto checkout = c.post("/api/v1/basket/checkout", kCheckout.dump(), token);
    if (checkout.status != 202) return failures.push_back("checkout: " + std::to_string(checkout.status) + " " + checkout.body);
    const auto answer = nlohmann::json::parse(checkout.body, nullptr, false);
    if (answer.is_discarded() || !answer.contains("orderId")) return failures.push_back("checkout body: " + checkout.body);
    orders.push_back(answer.at("orderId").get<std::string>());
    const auto history = c.get("/api/v1/orders?pageSize=1", token);  // the ordering module, wherever it is
    if (history.status != 200) failures.push_back("history: " + std::to_string(history.status) + " " + history.body);
  }
};

std::string register_customer(const Node& front, const std::string& email) {
  auto c = front.client();
  REQUIRE(c.post("/api/v1/identity/register",
                 nlohmann::json{{"email", email}, {"password", "password-123"}, {"name", "Cat"}}.dump())
              .status == 201);
  const auto login = c.post("/api/v1/identity/login", nlohmann::json{{"email", email}, {"password", "password-123"}}.dump());
  REQUIRE(login.status == 200);
  return body_of(login).at("token");
}

// Every order of every customer reaches `completed`, and each customer's history has exactly them.
void check_all_completed(const Node& front, const std::vector<Customer>& customers) {
  auto c = front.client();
  for (const auto& customer : customers) {
    for (const auto& id : customer.orders) {
      std::string status;
      CHECK(test::eventually(
          [&] {
            const auto res = c.get("/api/v1/orders/" + id, customer.token);
            status = res.status == 200 ? body_of(res).at("status").get<std::string>() : std::to_string(res.status);
            return status == "completed";
          },
          std::chrono::seconds(30)));
      INFO(id << " ended " << status);
    }
    const auto history = body_of(c.get("/api/v1/orders?pageSize=100", customer.token));
    CHECK(history.at("totalItems") == customer.orders.size());
  }
}

// Charges in a process's test payment ledger (each process charges into its own).
int charges_in(const Node& node) {
  const auto path = node.dir.path() / "payments.db";
  if (!std::filesystem::exists(path)) return 0;
  auto db = Database::open(path.string());
  return static_cast<int>(db->read([](Tx& tx) { return test::scalar(tx, "SELECT COUNT(*) FROM charges WHERE approved = 1"); }));
}

// Customers buying on threads until the end of scope (also when a REQUIRE leaves it early).
struct Load {
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  Load(const Node& front, std::vector<Customer>& customers, int product) {
    for (auto& customer : customers)
      threads.emplace_back([this, &front, &customer, product] {
        auto c = front.client();
        while (!done) customer.buy(c, product);
      });
  }
  void stop() {
    done = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~Load() { stop(); }
};

}  // namespace

TEST_CASE("ordering moves out to another process and back while customers check out, nothing lost or doubled",
          "[.move][http]") {
  Shop shop;
  shop.start(shop.bus);
  // Far more than the load can buy in its few seconds (about 1,600 orders on a fast day): every
  // order is to complete, none may run out of stock.
  shop.set_stock(1, 100000);
  constexpr int kCustomers = 4;
  std::vector<Customer> customers(kCustomers);
  for (int i = 0; i < kCustomers; ++i) customers[i].token = register_customer(shop.a, "c" + std::to_string(i) + "@example.com");

  Load load(shop.a, customers, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const auto out = shop.move(shop.a, "ordering", shop.b);
  INFO(out.body);
  REQUIRE(out.status == 200);
  const auto moved = body_of(out);
  CHECK(moved.at("outcome") == "moved");
  CHECK(moved.at("module") == "ordering");
  CHECK(moved.at("to") == shop.b.url());
  CHECK(moved.at("handoverMs").get<int>() < 3000);
  // Where the time went, phase by phase, on both sides; the phases fit in the whole.
  int phases = 0;
  for (const char* phase : {"drain", "quiesce", "copy", "adopt"}) phases += moved.at("phasesMs").at(phase).get<int>();
  CHECK(phases <= moved.at("handoverMs").get<int>());
  CHECK(moved.at("targetPhasesMs").size() == 3);
  for (const char* phase : {"fetch", "write", "open"}) CHECK(moved.at("targetPhasesMs").at(phase).get<int>() >= 0);
  CHECK(shop.location(shop.a, "ordering") == "remote");
  CHECK(shop.location(shop.b, "ordering") == "local");
  CHECK(std::filesystem::exists(shop.b.dir.path() / "ordering.db"));
  CHECK_FALSE(std::filesystem::exists(shop.a.dir.path() / "ordering.db"));
  CHECK(std::filesystem::exists(shop.a.dir.path() / "ordering.moved.json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));

  // Back: the same operation, asked of the process that hosts it now.
  const auto back = shop.move(shop.b, "ordering", shop.a);
  INFO(back.body);
  REQUIRE(back.status == 200);
  CHECK(body_of(back).at("outcome") == "moved");
  CHECK(shop.location(shop.a, "ordering") == "local");
  CHECK(shop.location(shop.b, "ordering") == "remote");
  CHECK_FALSE(std::filesystem::exists(shop.a.dir.path() / "ordering.moved.json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  load.stop();

  std::size_t placed = 0;
  for (const auto& customer : customers) {
    INFO(nlohmann::json(customer.failures).dump());
    CHECK(customer.failures.empty());
    placed += customer.orders.size();
  }
  CHECK(placed > 10);
  check_all_completed(shop.a, customers);
  CHECK(shop.stock(1) == 100000 - static_cast<int>(placed));  // one unit per order, reserved once
  CHECK(charges_in(shop.a) + charges_in(shop.b) == static_cast<int>(placed));  // charged once each
  // Both hand-overs are in the logs.
  CHECK(shop.a.child->output().find("\"msg\":\"module move\"") != std::string::npos);
  CHECK(shop.b.child->output().find("\"msg\":\"module move\"") != std::string::npos);
}

TEST_CASE("basket moves out and back while customers change their lines, each keeping its last answer",
          "[.move][http]") {
  Shop shop;
  shop.start(shop.bus, {}, {"catalog", "discount"});  // B reaches what basket calls in A
  shop.set_stock(1, 100000);  // a line may hold up to 10,000
  // Each customer sets its line of product 1 to 1, 2, 3, ... (answered on A's I/O threads while
  // basket is in A, on B's workers while in B, waiting at the gate in between) and keeps the last
  // quantity answered 200.
  struct Changer {
    std::string token;
    int last = 0;
    std::vector<std::string> failures;
  };
  std::vector<Changer> changers(4);
  for (int i = 0; i < 4; ++i) changers[i].token = register_customer(shop.a, "b" + std::to_string(i) + "@example.com");
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (auto& changer : changers)
    threads.emplace_back([&] {
      auto c = shop.a.client();
      for (int q = 1; !done && q <= 10000; ++q) {
        const auto res = c.put("/api/v1/basket/items/1", nlohmann::json{{"quantity", q}}.dump(), changer.token);
        if (res.status != 200) {
          changer.failures.push_back(std::to_string(res.status) + " " + res.body);
          continue;
        }
        changer.last = q;
      }
    });
  struct Join {
    std::atomic<bool>& done;
    std::vector<std::thread>& threads;
    ~Join() {
      done = true;
      for (auto& t : threads) t.join();
    }
  } join{done, threads};
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto out = shop.move(shop.a, "basket", shop.b);
  INFO(out.body);
  REQUIRE(out.status == 200);
  CHECK(body_of(out).at("outcome") == "moved");
  CHECK(shop.location(shop.a, "basket") == "remote");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto back = shop.move(shop.b, "basket", shop.a);
  INFO(back.body);
  REQUIRE(back.status == 200);
  CHECK(shop.location(shop.a, "basket") == "local");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  done = true;
  for (auto& t : threads) t.join();
  threads.clear();
  auto c = shop.a.client();
  for (const auto& changer : changers) {
    INFO(nlohmann::json(changer.failures).dump());
    CHECK(changer.failures.empty());
    CHECK(changer.last > 10);
    const auto basket = body_of(c.get("/api/v1/basket", changer.token));
    REQUIRE(basket.at("items").size() == 1);
    CHECK(basket.at("items").at(0).at("quantity") == changer.last);  // the last answer is what was kept
  }
}

TEST_CASE("a move is refused, with nothing changed, for a bad module, target or state", "[.move][http]") {
  Shop shop;
  shop.start("inproc");
  auto c = shop.a.client();
  auto detail = [](const http::Response& r) { return body_of(r).value("detail", std::string()); };

  SECTION("the in-process bus, without a broker to swap to") {
    const auto r = shop.move(shop.a, "ordering", shop.b);
    CHECK(r.status == 409);
    CHECK(detail(r).find("in-process bus") != std::string::npos);
  }
  SECTION("an unknown module") {
    CHECK(shop.move(shop.a, "shipping", shop.b).status == 404);
  }
  SECTION("a module other modules call in-process") {
    const auto r = shop.move(shop.a, "catalog", shop.b);
    CHECK(r.status == 409);
    CHECK(detail(r).find("cannot move while the shop runs") != std::string::npos);
  }
  SECTION("a module this process does not host") {
    const auto r = shop.move(shop.b, "ordering", shop.a);
    CHECK(r.status == 409);
    CHECK(detail(r) == "This process does not host ordering.");
  }
  SECTION("an unreachable target") {
    const auto r = shop.a.client().post("/api/v1/admin/modules/ordering/move",
                                        R"({"to":"http://127.0.0.1:1","bus":")" + shop.bus + "\"}", shop.admin);
    CHECK(r.status == 502);
    CHECK(detail(r).find("http://127.0.0.1:1 is unreachable") != std::string::npos);
    CHECK(body_of(c.get("/api/v1/admin/topology", shop.admin)).at("eventBus").at("transport") == "inproc");
  }
  SECTION("the target is this process") {
    const auto r = shop.move(shop.a, "ordering", shop.a, {{"bus", shop.bus}});
    CHECK(r.status == 409);
    CHECK(detail(r) == "The target is this process.");
  }
  SECTION("bad input") {
    const auto r = c.post("/api/v1/admin/modules/ordering/move", R"({"to":"ftp://x"})", shop.admin);
    CHECK(r.status == 422);
    CHECK(c.post("/api/v1/admin/modules/ordering/move", R"({"to":"http://127.0.0.1:1"})").status == 401);
    const auto customer = register_customer(shop.a, "nosy@example.com");
    CHECK(c.post("/api/v1/admin/modules/ordering/move", R"({"to":"http://127.0.0.1:1"})", customer).status == 403);
  }
  // Whatever was refused, ordering still runs here.
  CHECK(shop.location(shop.a, "ordering") == "local");
  CHECK(c.get("/api/v1/orders", shop.admin).status == 200);
}

TEST_CASE("a module whose data is of a newer schema is refused by the target, and stays", "[.move][http]") {
  Shop shop;
  shop.start(shop.bus);
  {  // as if a newer build had migrated this database
    auto db = Database::open((shop.a.dir.path() / "ordering.db").string());
    db->write([](Tx& tx) { tx.execute("INSERT INTO schema_migrations(version, name) VALUES(999, 'future')"); });
  }
  const auto r = shop.move(shop.a, "ordering", shop.b);
  INFO(r.body);
  CHECK(r.status == 409);
  CHECK(body_of(r).at("detail").get<std::string>().find("newer than this build knows") != std::string::npos);
  CHECK(shop.location(shop.a, "ordering") == "local");
  CHECK(shop.location(shop.b, "ordering") == "absent");
  CHECK_FALSE(std::filesystem::exists(shop.b.dir.path() / "ordering.db"));
  auto customer = Customer{register_customer(shop.a, "after@example.com")};
  auto c = shop.a.client();
  customer.buy(c, 2);
  CHECK(customer.failures.empty());
  check_all_completed(shop.a, {customer});
}

TEST_CASE("the target killed in the middle of a move: the source takes the module back and loses nothing",
          "[.move][http]") {
  Shop shop;
  shop.start(shop.bus, {"ESHOP_FAULT_ADOPT_DELAY_MS=1500"});
  Customer before{register_customer(shop.a, "before@example.com")};
  auto c = shop.a.client();
  before.buy(c, 3);
  REQUIRE(before.failures.empty());

  auto moving = std::async(std::launch::async, [&] { return shop.move(shop.a, "ordering", shop.b); });
  // While the target sits in its adoption, another move is refused ...
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const auto second = shop.move(shop.a, "ordering", shop.b);
  CHECK(second.status == 409);
  CHECK(body_of(second).at("detail").get<std::string>().find("Another move") != std::string::npos);
  // ... and a customer who checks out now waits for the hand-over's end, then is served.
  Customer during{register_customer(shop.a, "during@example.com")};
  auto buying = std::async(std::launch::async, [&] {
    auto client = shop.a.client();
    during.buy(client, 3);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  shop.b.child->kill_hard();
  const auto r = moving.get();
  buying.get();
  INFO(r.body);
  CHECK(r.status == 502);
  CHECK(body_of(r).at("detail").get<std::string>().find("ordering stays here and serves") != std::string::npos);
  CHECK(shop.location(shop.a, "ordering") == "local");
  const auto topology = body_of(c.get("/api/v1/admin/topology", shop.admin));
  CHECK(topology.at("lastMove").at("outcome") == "failed");
  CHECK(std::filesystem::exists(shop.a.dir.path() / "ordering.db"));
  CHECK_FALSE(std::filesystem::exists(shop.a.dir.path() / "ordering.moved.json"));
  Customer after{register_customer(shop.a, "after@example.com")};
  after.buy(c, 3);
  for (const auto* customer : {&before, &during, &after}) {
    INFO(nlohmann::json(customer->failures).dump());
    CHECK(customer->failures.empty());
    CHECK(customer->orders.size() == 1);
  }
  check_all_completed(shop.a, {before, during, after});
  CHECK(charges_in(shop.a) == 3);
}

TEST_CASE("the in-process bus is swapped to RabbitMQ while customers check out, no event lost", "[.move][http]") {
  Shop shop;
  shop.start("inproc");
  shop.set_stock(2, 100000);  // more than the load can buy: see above
  std::vector<Customer> customers(3);
  for (std::size_t i = 0; i < customers.size(); ++i)
    customers[i].token = register_customer(shop.a, "s" + std::to_string(i) + "@example.com");
  Load load(shop.a, customers, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto c = shop.a.client();
  CHECK(c.post("/api/v1/admin/bus", R"({"url":"amqp://nobody:x@127.0.0.1:1/"})", shop.admin).status == 502);
  const auto swap = c.post("/api/v1/admin/bus", nlohmann::json{{"url", shop.bus}}.dump(), shop.admin);
  INFO(swap.body);
  REQUIRE(swap.status == 200);
  CHECK(body_of(swap).at("outcome") == "swapped");
  CHECK(c.post("/api/v1/admin/bus", nlohmann::json{{"url", shop.bus}}.dump(), shop.admin).status == 409);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  load.stop();
  const auto topology = body_of(c.get("/api/v1/admin/topology", shop.admin));
  CHECK(topology.at("eventBus").at("transport") == "amqp");
  std::size_t placed = 0;
  for (const auto& customer : customers) {
    INFO(nlohmann::json(customer.failures).dump());
    CHECK(customer.failures.empty());
    placed += customer.orders.size();
  }
  check_all_completed(shop.a, customers);
  CHECK(shop.stock(2) == 100000 - static_cast<int>(placed));
  CHECK(charges_in(shop.a) == static_cast<int>(placed));
  // And now a move works: the bus is shared.
  const auto out = shop.move(shop.a, "ordering", shop.b);
  INFO(out.body);
  CHECK(out.status == 200);
}

TEST_CASE("after a move out, the source restarted with its old flags refuses to start, naming the marker",
          "[.move][http]") {
  Shop shop;
  shop.start(shop.bus);
  Customer ann{register_customer(shop.a, "ann@example.com")};
  auto c = shop.a.client();
  ann.buy(c, 4);
  REQUIRE(ann.failures.empty());
  const auto out = shop.move(shop.a, "ordering", shop.b);
  INFO(out.body);
  REQUIRE(out.status == 200);
  check_all_completed(shop.a, {ann});  // through the monolith's gateway, served by the other process
  shop.a.child.reset();  // SIGKILL: as a crash would
  const auto marker = shop.a.dir.path() / "ordering.moved.json";
  REQUIRE(std::filesystem::exists(marker));
  test::Child again({ESHOP_BINARY, "serve", "--host", "127.0.0.1", "--port", std::to_string(test::free_port()),
                     "--data-dir", shop.a.dir.path().string(), "--bus", shop.bus, "--bus-namespace", shop.name_space});
  CHECK(again.wait_exit() == 2);
  const auto said = again.drain();
  CHECK(said.find("ordering was moved to " + shop.b.url()) != std::string::npos);
  CHECK(said.find(marker.string()) != std::string::npos);
}

namespace {

// A peer that answers every request with `body` (200, JSON): what a target of another build
// says about itself. One thread, until the end of the scope.
class FakeTarget {
 public:
  explicit FakeTarget(std::string body) : body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[8192];
        (void)::recv(c, buf, sizeof buf, 0);
        const std::string res = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
        (void)::send(c, res.data(), res.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~FakeTarget() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return url_of(port_); }

 private:
  std::string body_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("a move to a target of another version is refused, with nothing changed", "[.move][http]") {
  Shop shop;
  shop.start(shop.bus);
  FakeTarget target(R"({"version":"eshop 9.9.9","instance":"x","modules":[],"eventBus":{"transport":"amqp"}})");
  const auto r = shop.a.client().post("/api/v1/admin/modules/ordering/move",
                                      nlohmann::json{{"to", target.url()}}.dump(), shop.admin);
  CHECK(r.status == 409);
  CHECK(body_of(r).at("detail") ==
        "The target runs eshop 9.9.9, this process eshop 0.1.0: a module moves only between equal builds.");
  CHECK(shop.location(shop.a, "ordering") == "local");
  CHECK(shop.a.client().get("/api/v1/orders", shop.admin).status == 200);
}
