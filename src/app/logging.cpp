#include "app/logging.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace eshop::app {
namespace {

// Every log line goes through one buffer that a background thread writes to stdout in
// batches: a request pays for a short copy under a mutex, never for a system call. If stdout
// stalls, lines beyond kMaxPending are dropped (and counted) rather than blocking requests.
class LineWriter final {
 public:
  static LineWriter& instance() {
    static LineWriter writer;
    return writer;
  }

  void append(std::string_view line) {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > kMaxPending) {
      ++dropped_;
      return;
    }
    pending_.append(line);
    // Once, when the batch crosses the mark: a wake-up per line until the writer ran cost a
    // futex call per request.
    if (pending_.size() > kEagerFlush && pending_.size() - line.size() <= kEagerFlush) wake_.notify_one();
  }

  void flush() {
    std::lock_guard write_lock(write_mutex_);
    {
      std::lock_guard lock(mutex_);
      batch_.swap(pending_);  // pending_ gets the last batch's buffer, and keeps its capacity
    }
    write_all(batch_);
    batch_.clear();
  }

 private:
  static constexpr std::size_t kMaxPending = 8 << 20;
  static constexpr std::size_t kEagerFlush = 64 << 10;

  LineWriter() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "log-writer");
      run();
    });
  }
  ~LineWriter() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    flush();
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      lock.unlock();
      flush();
      lock.lock();
    }
  }

  static void write_all(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::write(STDOUT_FILENO, data.data(), data.size());
      if (n <= 0) return;  // stdout is gone: nothing sensible to do
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::mutex mutex_;
  std::mutex write_mutex_;  // keeps batches in order
  std::condition_variable wake_;
  std::string pending_;
  std::string batch_;  // under write_mutex_
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// spdlog formats on the calling thread; the line then joins the same buffer as the access log.
class BufferedSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    LineWriter::instance().append({formatted.data(), formatted.size()});
    if (msg.level >= spdlog::level::warn) LineWriter::instance().flush();
  }
  void flush_() override { LineWriter::instance().flush(); }
};

// "2026-11-24T10:00:00.123Z", formatting the seconds only when they change.
void append_time(fmt::memory_buffer& out) {
  thread_local std::int64_t cached_second = -1;
  thread_local char cached[24];
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto second = ms / 1000;
  if (second != cached_second) {
    const std::time_t t = second;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  fmt::format_to(std::back_inserter(out), "{}.{:03d}Z", cached, static_cast<int>(ms % 1000));
}

}  // namespace

void init_logging(const std::string& level) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>("eshop", std::make_shared<BufferedSink>());
    logger->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
  });
  spdlog::set_level(spdlog::level::from_str(level));
}

void flush_logs() { LineWriter::instance().flush(); }

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  out += '"';
  return out;
}

void log_request(std::string_view request_id, std::string_view method, std::string_view route,
                 std::string_view module, int status, double duration_ms) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  // The hot path: appended piece by piece, no format strings to parse, no allocation.
  thread_local fmt::memory_buffer line;
  line.clear();
  auto put = [](std::string_view s) { line.append(s.data(), s.data() + s.size()); };
  auto put_int = [](long long v) {
    const fmt::format_int f(v);
    line.append(f.data(), f.data() + f.size());
  };
  put("{\"time\":\"");
  append_time(line);
  put("\",\"level\":\"info\",\"msg\":\"request\",\"requestId\":\"");
  put(request_id);  // sanitized at the edge: [A-Za-z0-9._:-]
  put("\",\"method\":");
  // An HTTP method is a token and cannot hold a quote or a backslash; escape it all the same.
  if (method.find_first_of("\"\\") == std::string_view::npos) {
    put("\"");
    put(method);
    put("\"");
  } else {
    put(json_quote(method));
  }
  put(",\"route\":\"");
  put(route);  // from code
  put("\",\"module\":\"");
  put(module);
  put("\",\"status\":");
  put_int(status);
  const long long micros = static_cast<long long>(duration_ms * 1000.0 + 0.5);
  put(",\"durationMs\":");
  put_int(micros / 1000);
  const char frac[5] = {'.', static_cast<char>('0' + micros % 1000 / 100), static_cast<char>('0' + micros % 100 / 10),
                        static_cast<char>('0' + micros % 10), '}'};
  put({frac, 5});
  put("\n");
  LineWriter::instance().append({line.data(), line.size()});
}

}  // namespace eshop::app
