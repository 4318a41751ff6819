#include "app/logging.hpp"

#include <eshop/json_writer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
// stalls, lines beyond kMaxPending are dropped (and counted) rather than blocking requests, and
// waiting for the log (flush_logs, exit) gives up after two seconds: only the writer thread
// ever blocks on stdout, so a process whose output nobody reads still stops.
class LineWriter final {
 public:
  static LineWriter& instance() {
    // Never destroyed: a writer thread stuck on a stalled stdout must not outlive its object.
    static LineWriter* writer = [] {
      auto* w = new LineWriter;
      std::atexit([] { instance().shutdown(); });
      return w;
    }();
    return *writer;
  }

  void append(std::string_view line) {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > kMaxPending) {
      ++dropped_;
      return;
    }
    pending_.append(line);
    appended_ += line.size();
    // Once, when the batch crosses the mark: a wake-up per line until the writer ran cost a
    // futex call per request.
    if (pending_.size() > kEagerFlush && pending_.size() - line.size() <= kEagerFlush) wake_.notify_one();
  }

  // Asks the writer to write what is pending now, without waiting for it.
  void request_flush() {
    {
      std::lock_guard lock(mutex_);
      flush_requested_ = true;
    }
    wake_.notify_one();
  }

  // Waits until what was appended so far is written, or `timeout` passed.
  void flush_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto target = appended_;
    flush_requested_ = true;
    wake_.notify_one();
    written_cv_.wait_for(lock, timeout, [&] { return written_ >= target || exited_; });
  }

 private:
  static constexpr std::size_t kMaxPending = 8 << 20;
  static constexpr std::size_t kEagerFlush = 64 << 10;
  static constexpr std::chrono::milliseconds kPatience{2000};

  LineWriter() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "log-writer");
      run();
    });
  }

  // At exit: the writer writes what is left and ends, or is left behind after two seconds.
  void shutdown() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
    const bool ended = written_cv_.wait_for(lock, kPatience, [&] { return exited_; });
    lock.unlock();
    if (ended) thread_.join();
    else thread_.detach();  // blocked on stdout: the process exits around it
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, std::chrono::milliseconds(100),
                     [&] { return stopping_ || flush_requested_ || pending_.size() > kEagerFlush; });
      const bool last = stopping_;
      flush_requested_ = false;
      batch_.swap(pending_);  // pending_ gets the last batch's buffer, and keeps its capacity
      const auto upto = appended_;
      lock.unlock();
      write_all(batch_);
      batch_.clear();
      lock.lock();
      written_ = upto;
      written_cv_.notify_all();
      if (last && pending_.empty()) break;
    }
    exited_ = true;
    written_cv_.notify_all();
  }

  static void write_all(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::write(STDOUT_FILENO, data.data(), data.size());
      if (n <= 0) return;  // stdout is gone: nothing sensible to do
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, written_cv_;
  std::string pending_;       // under mutex_
  std::string batch_;         // the writer thread's
  std::uint64_t appended_ = 0, written_ = 0, dropped_ = 0;  // under mutex_
  bool flush_requested_ = false, stopping_ = false, exited_ = false;  // under mutex_
  std::thread thread_;
};

// spdlog formats on the calling thread; the line then joins the same buffer as the access log.
class BufferedSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    LineWriter::instance().append({formatted.data(), formatted.size()});
    if (msg.level >= spdlog::level::warn) LineWriter::instance().request_flush();
  }
  void flush_() override { LineWriter::instance().flush_for(std::chrono::seconds(2)); }
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
  const auto milli = static_cast<int>(ms % 1000);
  const char tail[6] = {'.', static_cast<char>('0' + milli / 100), static_cast<char>('0' + milli / 10 % 10),
                        static_cast<char>('0' + milli % 10), 'Z', '\0'};
  out.append(cached, cached + std::strlen(cached));
  out.append(tail, tail + 5);
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

void flush_logs() { LineWriter::instance().flush_for(std::chrono::seconds(2)); }

std::string json_quote(std::string_view text) {
  std::string out;
  json::append_string(out, text);
  return out;
}

void log_request(std::string_view request_id, std::string_view client, std::string_view method,
                 std::string_view route, std::string_view module, int status, double duration_ms) {
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
  put("\",\"client\":\"");
  put(client);  // an IP address: the peer's, or one a trusted proxy named and parse_address accepted
  put("\",\"method\":");
  // An HTTP method is a token and cannot hold a quote or a backslash; escape it all the same.
  if (std::none_of(method.begin(), method.end(), [](char c) { return c == '"' || c == '\\'; })) {
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
