#pragma once
// A child process (the real eshop binary) with its output on a pipe; killed if still running
// when the test ends, so no test leaves a process behind.
#include <chrono>
#include <csignal>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace eshop::test {

// A child process with its stdout on a pipe; killed (SIGKILL) if still running at the end.
class Child final {
 public:
  explicit Child(std::vector<std::string> args, std::vector<std::string> env = {}) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // If the test process dies without its destructors (a crash, std::terminate), so does this one.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      for (auto& e : env) putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();  // the pipe has closed with the process
    close(out_);
  }

  // From now on a thread reads the output as it comes (a busy process's access log would fill the
  // pipe and block it); output() returns all of it so far. wait_for_line() is not used after this.
  void read_in_background() {
    reader_ = std::thread([this] {
      char chunk[4096];
      ssize_t n;
      while ((n = read(out_, chunk, sizeof chunk)) > 0) {
        std::lock_guard lock(mutex_);
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
    });
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    return buffer_;
  }

  // Reads output until a line contains `needle`; returns that line (empty on EOF or timeout).
  std::string wait_for_line(const std::string& needle, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        auto line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.find(needle) != std::string::npos) return line;
        continue;
      }
      char chunk[4096];
      const auto n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return {};
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return {};
  }

  // The exit status, or -1 if it did not exit within the timeout.
  int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  pid_t pid() const { return pid_; }
  // Everything the process printed until it closed its output (call after it ended).
  std::string drain() {
    std::string all = buffer_;
    char chunk[4096];
    ssize_t n;
    while ((n = read(out_, chunk, sizeof chunk)) > 0) all.append(chunk, static_cast<std::size_t>(n));
    buffer_.clear();
    return all;
  }
  void kill_hard() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::string buffer_;
  std::mutex mutex_;  // buffer_, once read_in_background() runs
  std::thread reader_;
};


}  // namespace eshop::test
