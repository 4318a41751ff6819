#include <eshop/event_handlers.hpp>

#include <thread>

namespace eshop {

void EventHandlers::add(std::string_view type, EventBus::Handler handler) {
  if (options_.delay.count() > 0)
    handler = [delay = options_.delay, inner = std::move(handler)](const Event& event) {
      std::this_thread::sleep_for(delay);
      inner(event);
    };
  bus_.subscribe(subscriber_, std::string(type), std::move(handler));
}

}  // namespace eshop
