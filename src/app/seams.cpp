#include "app/seams.hpp"

#include <chrono>

namespace eshop::app {

namespace {

// Runs `call`, and tells the meter how it went: a Result's error is an error, unless it says the
// callee could not be reached; an exception (DependencyUnavailable) is the callee unreachable.
template <class Call>
auto metered(const SeamMeter& meter, Call&& call) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  try {
    auto result = call();
    using Outcome = SeamMeter::Outcome;
    Outcome outcome = Outcome::ok;
    if constexpr (requires { result.has_value(); result.error(); }) {
      if (!result.has_value())
        outcome = result.error().code == ErrorCode::unavailable ? Outcome::unavailable : Outcome::error;
    }
    meter.observe(outcome, seconds());
    return result;
  } catch (...) {
    meter.observe(SeamMeter::Outcome::unavailable, seconds());
    throw;
  }
}

}  // namespace

Result<catalog::ProductView> MeteredCatalog::find_product(ProductId id) const {
  return metered(meter_, [&] { return inner_.find_product(id); });
}

Result<discount::CouponTerms> MeteredDiscount::find_coupon(const std::string& code) const {
  return metered(meter_, [&] { return inner_.find_coupon(code); });
}

std::optional<Principal> MeteredAuthenticator::authenticate(std::string_view bearer_token) const {
  return metered(meter_, [&] { return inner_.authenticate(bearer_token); });
}

}  // namespace eshop::app
