// Event envelopes as a transport or an outbox hands them over: JSON text, the envelope's fields,
// then each subscriber's typed payload. Bad input must be refused with an exception (the
// delivery is then retried or dead-lettered), never crash or corrupt memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include <basket/events.hpp>
#include <catalog/events.hpp>
#include <eshop/event_bus.hpp>
#include <ordering/events.hpp>

namespace {

template <class E>
void decode(const eshop::Event& e) {
  if (e.type != E::kType) return;
  try {
    (void)e.payload.get<E>();
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;
  eshop::Event e;
  try {
    e = eshop::event_from_json(json);
  } catch (const std::exception&) {
    return 0;
  }
  (void)eshop::to_json(e).dump();
  namespace cat = eshop::catalog::events;
  namespace bas = eshop::basket::events;
  namespace ord = eshop::ordering::events;
  decode<bas::BasketCheckedOut>(e);
  decode<bas::BasketRestoreRequested>(e);
  decode<cat::ProductPriceChanged>(e);
  decode<cat::ProductUpdated>(e);
  decode<cat::ProductDeleted>(e);
  decode<cat::StockReservationRequested>(e);
  decode<cat::StockReserved>(e);
  decode<cat::StockReservationRejected>(e);
  decode<ord::OrderPlaced>(e);
  decode<ord::OrderCancelled>(e);
  return 0;
}
