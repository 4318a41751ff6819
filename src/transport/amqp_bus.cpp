// RabbitMQ transport. Topology, all durable, declared by whoever connects:
//   <ns>.events        topic exchange; routing key = the event type
//   <ns>.<module>      one quorum queue per subscribing module, bound to the types it handles,
//                      x-delivery-limit bounded redelivery, then dead-lettered to
//   <ns>.dead          topic exchange -> <ns>.<module>.dead (routing key = the module)
// Publishing waits for the broker's confirm (the outbox marks an event delivered only then);
// consuming acks after the handler (and so its transaction) returned, and nacks with requeue
// when it threw. Every connection reconnects with backoff when the broker goes away.
#include "transport/amqp_bus.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

namespace eshop::transport {
namespace {

constexpr amqp_channel_t kChannel = 1;

amqp_bytes_t bytes(const std::string& s) { return {s.size(), const_cast<char*>(s.data())}; }
std::string text(amqp_bytes_t b) { return {static_cast<const char*>(b.bytes), b.len}; }

struct Url {
  std::string host, user, password, vhost;
  int port = 5672;
};

Url parse_url(const std::string& url) {
  std::string copy = url;
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK) throw std::invalid_argument("bad AMQP URL: " + url);
  // "amqp://host/" names the empty vhost by the URI spec; nobody means that: take it as "/".
  const std::string vhost = info.vhost && *info.vhost ? info.vhost : "/";
  return {info.host, info.user, info.password, vhost, info.port};
}

// One connection with one open channel; throws std::runtime_error on any failure.
class Connection final {
 public:
  Connection(const Url& url, std::chrono::milliseconds timeout) : state_(amqp_new_connection()) {
    auto* socket = amqp_tcp_socket_new(state_);
    if (!socket) throw std::runtime_error("amqp: cannot create a socket");
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    if (amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &tv) != AMQP_STATUS_OK)
      throw std::runtime_error("amqp: cannot connect to " + url.host + ":" + std::to_string(url.port));
    check(amqp_login(state_, url.vhost.c_str(), 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, url.user.c_str(),
                     url.password.c_str()),
          "login");
    amqp_channel_open(state_, kChannel);
    check(amqp_get_rpc_reply(state_), "channel.open");
    open_ = true;
  }
  ~Connection() {
    if (open_) {
      amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
      amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(state_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  amqp_connection_state_t get() const { return state_; }

  void check(amqp_rpc_reply_t reply, const char* what) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
    open_ = false;  // the broker closed the channel or connection: do not try to close it again
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
      throw std::runtime_error(std::string("amqp ") + what + ": " + amqp_error_string2(reply.library_error));
    throw std::runtime_error(std::string("amqp ") + what + ": refused by the broker");
  }
  void check_rpc(const char* what) { check(amqp_get_rpc_reply(state_), what); }

 private:
  amqp_connection_state_t state_;
  bool open_ = false;
};

class AmqpBus final : public EventBus {
 public:
  AmqpBus(AmqpOptions options, EventTelemetry& telemetry)
      : options_(std::move(options)), url_(parse_url(options_.url)), telemetry_(telemetry) {}
  ~AmqpBus() override { stop(); }

  void publish(const Event& event) override {
    std::lock_guard lock(publish_mutex_);
    try {
      if (!publisher_) publisher_ = connect_publisher();
      publish_confirmed(*publisher_, event);
    } catch (const std::exception& e) {
      publisher_.reset();  // reconnect on the next attempt; the outbox relay retries with backoff
      throw TransportUnavailable(e.what());
    }
  }

  void subscribe(std::string subscriber, std::string type, Handler handler) override {
    std::lock_guard lock(mutex_);
    if (running_) throw std::logic_error("subscribe after the bus started");
    consumers_[subscriber].handlers[type].push_back(std::move(handler));
  }

  void expect_subscriber(std::string subscriber, std::string type) override {
    std::lock_guard lock(mutex_);
    remote_[subscriber].insert(std::move(type));
  }

  void start() override {
    // Declare every queue and binding before anything is published: an event sent to a type
    // nobody is bound to yet would be dropped by the broker. (If the broker is down now, the
    // publisher declares them on connecting, before its first publish.)
    try {
      std::lock_guard plock(publish_mutex_);
      publisher_ = connect_publisher();
    } catch (const std::exception& e) {
      spdlog::warn("\"msg\":\"amqp broker unreachable at start\",\"error\":{}", nlohmann::json(e.what()).dump());
    }
    std::lock_guard lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    for (auto& [module, consumer] : consumers_) {
      consumer.connected = false;
      consumer.thread = std::thread([this, m = module, c = &consumer] { consume(m, *c); });
    }
  }

  void attach(const std::string& subscriber, std::vector<std::pair<std::string, Handler>> handlers) override {
    {
      std::lock_guard plock(publish_mutex_);  // the publisher declares the new bindings on reconnecting
      std::lock_guard lock(mutex_);
      if (consumers_.count(subscriber)) throw std::logic_error(subscriber + " is subscribed already");
      auto& consumer = consumers_[subscriber];
      for (auto& [type, handler] : handlers) consumer.handlers[type].push_back(std::move(handler));
      remote_.erase(subscriber);
      if (running_) consumer.thread = std::thread([this, m = subscriber, c = &consumer] { consume(m, *c); });
    }
  }

  void detach(const std::string& subscriber) override {
    std::thread thread;
    {
      std::lock_guard lock(mutex_);
      const auto it = consumers_.find(subscriber);
      if (it == consumers_.end()) return;
      it->second.leaving = true;
      thread = std::move(it->second.thread);
    }
    wake_.notify_all();
    // The consumer finishes the handler in hand and acks it; closing its channel returns what the
    // broker had sent ahead (prefetch) to the queue, for whoever consumes it next.
    if (thread.joinable()) thread.join();
    std::lock_guard lock(mutex_);
    std::set<std::string> types;
    for (const auto& [type, handlers] : consumers_.at(subscriber).handlers) types.insert(type);
    consumers_.erase(subscriber);
    remote_[subscriber] = std::move(types);  // its queue stays declared and keeps its events
  }

  void stop() override {
    {
      std::lock_guard lock(mutex_);
      if (!running_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& [module, consumer] : consumers_)
      if (consumer.thread.joinable()) consumer.thread.join();
    {
      std::lock_guard lock(mutex_);
      running_ = false;
    }
    std::lock_guard plock(publish_mutex_);  // always taken before mutex_, never after
    publisher_.reset();
  }

  // Ready when the broker takes connections and every consumer is attached.
  bool healthy() const override {
    {
      std::lock_guard lock(publish_mutex_);
      if (!publisher_) {
        try {
          publisher_ = connect_publisher();
        } catch (const std::exception&) {
          return false;
        }
      }
    }
    std::lock_guard lock(mutex_);
    for (const auto& [module, consumer] : consumers_)
      if (running_ && !consumer.connected) return false;
    return true;
  }

  std::string transport() const override { return "amqp"; }

  std::vector<Subscription> subscriptions() const override {
    std::lock_guard lock(mutex_);
    std::vector<Subscription> out;
    for (const auto& [module, consumer] : consumers_)
      for (const auto& [type, handlers] : consumer.handlers)
        for (std::size_t i = 0; i < handlers.size(); ++i) out.push_back({module, type});
    for (const auto& [module, types] : remote_)  // modules in other processes, kept for by the broker
      for (const auto& type : types) out.push_back({module, type});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.type, a.subscriber) < std::tie(b.type, b.subscriber);
    });
    return out;
  }

 private:
  struct Consumer {
    std::map<std::string, std::vector<Handler>> handlers;  // by event type
    std::thread thread;
    std::atomic<bool> connected{false};
    bool leaving = false;  // under mutex_: detach() asked it to stop
  };

  std::string exchange() const { return options_.name_space + ".events"; }
  std::string dead_exchange() const { return options_.name_space + ".dead"; }
  std::string queue(const std::string& module) const { return options_.name_space + "." + module; }

  void declare_exchanges(Connection& c) const {
    for (const auto& name : {exchange(), dead_exchange()}) {
      amqp_exchange_declare(c.get(), kChannel, bytes(name), amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
      c.check_rpc("exchange.declare");
    }
  }

  std::unique_ptr<Connection> connect_publisher() const {
    auto c = std::make_unique<Connection>(url_, options_.timeout);
    declare_exchanges(*c);
    for (const auto& [module, types] : all_bindings()) declare_queue(*c, module, types);
    amqp_confirm_select(c->get(), kChannel);
    c->check_rpc("confirm.select");
    return c;
  }

  void publish_confirmed(Connection& c, const Event& e) const {
    const std::string body = e.payload.dump();
    const std::string time = to_rfc3339(e.time);
    amqp_table_entry_t headers[2];
    headers[0].key = amqp_cstring_bytes("time");
    headers[0].value.kind = AMQP_FIELD_KIND_UTF8;
    headers[0].value.value.bytes = bytes(time);
    headers[1].key = amqp_cstring_bytes("key");
    headers[1].value.kind = AMQP_FIELD_KIND_UTF8;
    headers[1].value.value.bytes = bytes(e.key);
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                   AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
                   AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = 2;  // persistent
    props.message_id = bytes(e.id);
    props.type = bytes(e.type);
    props.app_id = bytes(e.source);
    props.correlation_id = bytes(e.correlation_id);
    props.timestamp = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(e.time.time_since_epoch()).count());
    props.headers.num_entries = 2;
    props.headers.entries = headers;
    const std::string ex = exchange();
    if (amqp_basic_publish(c.get(), kChannel, bytes(ex), bytes(e.type), 0, 0, &props, bytes(body)) != AMQP_STATUS_OK)
      throw std::runtime_error("amqp: publish failed");
    wait_for_confirm(c);
  }

  void wait_for_confirm(Connection& c) const {
    timeval tv{static_cast<time_t>(options_.timeout.count() / 1000),
               static_cast<suseconds_t>(options_.timeout.count() % 1000 * 1000)};
    for (;;) {
      amqp_frame_t frame;
      const int status = amqp_simple_wait_frame_noblock(c.get(), &frame, &tv);
      if (status != AMQP_STATUS_OK) throw std::runtime_error(std::string("amqp: no confirm: ") + amqp_error_string2(status));
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) return;
      if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) throw std::runtime_error("amqp: the broker refused the event");
      if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD || frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
        throw std::runtime_error("amqp: the broker closed the channel");
    }
  }

  // Every subscriber this process knows of, local or remote, with the types it handles.
  std::map<std::string, std::set<std::string>> all_bindings() const {
    std::lock_guard lock(mutex_);
    auto all = remote_;
    for (const auto& [module, consumer] : consumers_)
      for (const auto& [type, handlers] : consumer.handlers) all[module].insert(type);
    return all;
  }

  void declare_queue(Connection& c, const std::string& module, const std::set<std::string>& types) const {
    const std::string q = queue(module), dead_q = queue(module) + ".dead";
    amqp_table_entry_t args[4];
    args[0].key = amqp_cstring_bytes("x-queue-type");
    args[0].value.kind = AMQP_FIELD_KIND_UTF8;
    args[0].value.value.bytes = amqp_cstring_bytes("quorum");
    args[1].key = amqp_cstring_bytes("x-delivery-limit");
    args[1].value.kind = AMQP_FIELD_KIND_I32;
    args[1].value.value.i32 = options_.delivery_limit;
    const std::string dlx = dead_exchange();
    args[2].key = amqp_cstring_bytes("x-dead-letter-exchange");
    args[2].value.kind = AMQP_FIELD_KIND_UTF8;
    args[2].value.value.bytes = bytes(dlx);
    args[3].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    args[3].value.kind = AMQP_FIELD_KIND_UTF8;
    args[3].value.value.bytes = bytes(module);
    amqp_queue_declare(c.get(), kChannel, bytes(q), 0, 1, 0, 0, {4, args});
    c.check_rpc("queue.declare");
    amqp_queue_declare(c.get(), kChannel, bytes(dead_q), 0, 1, 0, 0, amqp_empty_table);
    c.check_rpc("queue.declare (dead letters)");
    amqp_queue_bind(c.get(), kChannel, bytes(dead_q), bytes(dlx), bytes(module), amqp_empty_table);
    c.check_rpc("queue.bind (dead letters)");
    const std::string ex = exchange();
    for (const auto& type : types) {
      amqp_queue_bind(c.get(), kChannel, bytes(q), bytes(ex), bytes(type), amqp_empty_table);
      c.check_rpc("queue.bind");
    }
  }

  static Event to_event(const amqp_envelope_t& envelope) {
    const auto& p = envelope.message.properties;
    Event e;
    e.id = text(p.message_id);
    e.type = text(p.type);
    e.source = text(p.app_id);
    e.correlation_id = (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG) ? text(p.correlation_id) : "";
    e.time = TimePoint(std::chrono::seconds(p.timestamp));
    for (int i = 0; i < p.headers.num_entries; ++i) {
      const auto& h = p.headers.entries[i];
      if (h.value.kind != AMQP_FIELD_KIND_UTF8) continue;
      const auto key = text(h.key);
      if (key == "time") {
        if (auto t = parse_rfc3339(text(h.value.value.bytes))) e.time = *t;
      } else if (key == "key") {
        e.key = text(h.value.value.bytes);
      }
    }
    e.payload = nlohmann::json::parse(text(envelope.message.body));
    return e;
  }

  // Runs the module's handlers; true when all succeeded.
  bool dispatch(const std::string& module, const Consumer& consumer, const Event& e) {
    const auto it = consumer.handlers.find(e.type);
    if (it == consumer.handlers.end()) return true;
    bool ok = true;
    for (const auto& handler : it->second) {
      try {
        handler(e);
        telemetry_.handled(module, e.type);
      } catch (const std::exception& ex) {
        ok = false;
        telemetry_.handler_failed(module, e.type);
        spdlog::error("\"msg\":\"event handler failed\",\"subscriber\":{},\"type\":{},\"eventId\":{},\"error\":{}",
                      nlohmann::json(module).dump(), nlohmann::json(e.type).dump(), nlohmann::json(e.id).dump(),
                      nlohmann::json(ex.what()).dump());
      }
    }
    return ok;
  }

  void consume(const std::string& module, Consumer& consumer) {
    auto backoff = std::chrono::milliseconds(100);
    const auto stopping = [&] {
      std::lock_guard lock(mutex_);
      return stopping_ || consumer.leaving;
    };
    while (!stopping()) {
      try {
        Connection c(url_, options_.timeout);
        declare_exchanges(c);
        std::set<std::string> types;
        for (const auto& [type, handlers] : consumer.handlers) types.insert(type);
        declare_queue(c, module, types);
        amqp_basic_qos(c.get(), kChannel, 0, static_cast<uint16_t>(options_.prefetch), 0);
        c.check_rpc("basic.qos");
        const std::string q = queue(module);
        amqp_basic_consume(c.get(), kChannel, bytes(q), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        c.check_rpc("basic.consume");
        consumer.connected = true;
        backoff = std::chrono::milliseconds(100);
        while (!stopping()) {
          amqp_maybe_release_buffers(c.get());
          amqp_envelope_t envelope;
          timeval tv{0, 50000};  // how soon a stop or a detach is noticed
          const auto reply = amqp_consume_message(c.get(), &envelope, &tv, 0);
          if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) continue;
          c.check(reply, "consume");
          bool ok = false;
          try {
            ok = dispatch(module, consumer, to_event(envelope));
          } catch (const std::exception& ex) {  // a message that is not an event: dead-letter it at once
            spdlog::error("\"msg\":\"unreadable message\",\"subscriber\":{},\"error\":{}", nlohmann::json(module).dump(),
                          nlohmann::json(ex.what()).dump());
            amqp_basic_reject(c.get(), kChannel, envelope.delivery_tag, 0);
            amqp_destroy_envelope(&envelope);
            continue;
          }
          if (ok) amqp_basic_ack(c.get(), kChannel, envelope.delivery_tag, 0);
          else amqp_basic_nack(c.get(), kChannel, envelope.delivery_tag, 0, 1);  // redelivered, up to the limit
          amqp_destroy_envelope(&envelope);
        }
      } catch (const std::exception& ex) {
        consumer.connected = false;
        spdlog::warn("\"msg\":\"amqp consumer disconnected\",\"subscriber\":{},\"error\":{}",
                     nlohmann::json(module).dump(), nlohmann::json(ex.what()).dump());
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, backoff, [&] { return stopping_ || consumer.leaving; });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
    consumer.connected = false;
  }

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  AmqpOptions options_;
  Url url_;
  EventTelemetry& telemetry_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Consumer> consumers_;
  std::map<std::string, std::set<std::string>> remote_;  // subscribers in other processes
  bool running_ = false;
  bool stopping_ = false;
  mutable std::mutex publish_mutex_;
  mutable std::unique_ptr<Connection> publisher_;
};

}  // namespace

std::unique_ptr<EventBus> make_amqp_bus(AmqpOptions options, EventTelemetry& telemetry) {
  return std::make_unique<AmqpBus>(std::move(options), telemetry);
}

}  // namespace eshop::transport
