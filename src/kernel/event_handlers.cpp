#include <eshop/event_handlers.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <pthread.h>

namespace eshop {

struct ThenRunner::State {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> queue;
  bool stopping = false;
  std::thread thread;
};

ThenRunner::ThenRunner(std::string name) : state_(std::make_unique<State>()) {
  state_->thread = std::thread([s = state_.get(), name = std::move(name)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    std::unique_lock lock(s->mutex);
    for (;;) {
      s->wake.wait(lock, [s] { return s->stopping || !s->queue.empty(); });
      if (s->queue.empty()) return;  // stopping, and nothing left
      auto task = std::move(s->queue.front());
      s->queue.pop_front();
      lock.unlock();
      task();  // tasks report their own failures (to the relay's `done`)
      lock.lock();
    }
  });
}

ThenRunner::~ThenRunner() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_one();
  state_->thread.join();
}

void ThenRunner::post(std::function<void()> task) {
  bool was_idle = false;
  {
    std::lock_guard lock(state_->mutex);
    was_idle = state_->queue.empty();
    state_->queue.push_back(std::move(task));
  }
  if (was_idle) state_->wake.notify_one();
}

std::shared_ptr<ThenRunner> EventHandlers::then_runner() {
  if (!then_runner_) then_runner_ = std::make_shared<ThenRunner>("then-" + subscriber_);
  return then_runner_;
}

void EventHandlers::add(std::string_view type, EventBus::Handler handler) {
  if (options_.delay.count() > 0)
    handler = [delay = options_.delay, inner = std::move(handler)](const Event& event) {
      std::this_thread::sleep_for(delay);
      inner(event);
    };
  bus_.subscribe(subscriber_, std::string(type), std::move(handler));
}

}  // namespace eshop
