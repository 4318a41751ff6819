#pragma once
// The synchronous seams between modules, metered: each wraps a module's interface (its local
// implementation or its HTTP client) and counts every call by caller, callee, method, local or
// remote, and outcome, with its latency (eshop_seam_calls_total, eshop_seam_call_duration_seconds).
// The composition root hands the wrapped interface to the caller; neither side knows.
#include <eshop/auth.hpp>

#include <catalog/api.hpp>
#include <discount/api.hpp>

#include "app/metrics.hpp"

namespace eshop::app {

class MeteredCatalog final : public catalog::Api {
 public:
  MeteredCatalog(const catalog::Api& inner, const SeamMeter& meter) : inner_(inner), meter_(meter) {}
  Result<catalog::ProductView> find_product(ProductId id) const override;
  bool answers_from_memory() const override { return inner_.answers_from_memory(); }

 private:
  const catalog::Api& inner_;
  const SeamMeter& meter_;
};

class MeteredDiscount final : public discount::Api {
 public:
  MeteredDiscount(const discount::Api& inner, const SeamMeter& meter) : inner_(inner), meter_(meter) {}
  Result<discount::CouponTerms> find_coupon(const std::string& code) const override;

 private:
  const discount::Api& inner_;
  const SeamMeter& meter_;
};

class MeteredAuthenticator final : public Authenticator {
 public:
  MeteredAuthenticator(const Authenticator& inner, const SeamMeter& meter) : inner_(inner), meter_(meter) {}
  std::optional<Principal> authenticate(std::string_view bearer_token) const override;
  bool answers_from_memory() const override { return inner_.answers_from_memory(); }

 private:
  const Authenticator& inner_;
  const SeamMeter& meter_;
};

}  // namespace eshop::app
