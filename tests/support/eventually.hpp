#pragma once
// Events are asynchronous: tests poll for the state they expect instead of sleeping a guess.
#include <chrono>
#include <functional>
#include <thread>

namespace eshop::test {

// True as soon as `check` holds; false if it still does not after `limit`.
inline bool eventually(const std::function<bool()>& check, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return check();
}

}  // namespace eshop::test
