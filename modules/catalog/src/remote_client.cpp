// catalog::Api over HTTP, for a process where catalog runs elsewhere.
#include <catalog/module.hpp>
#include <eshop/json_number.hpp>
#include <eshop/remote.hpp>

namespace eshop::catalog {
namespace {

class RemoteCatalog final : public Api {
 public:
  explicit RemoteCatalog(remote::Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  Result<ProductView> find_product(ProductId id) const override {
    auto body = remote::get_json(endpoint_, "catalog", "/api/v1/catalog/products/" + std::to_string(id.value));
    if (!body) return fail(body.error());
    const auto image = body->value("imageUrl", nlohmann::json());
    return ProductView{id, body->at("name").get<std::string>(), Money::cents(whole_number(body->at("price"))),
                       whole_number(body->at("availableStock")), image.is_string() ? image.get<std::string>() : ""};
  }

 private:
  remote::Endpoint endpoint_;
};

}  // namespace

std::unique_ptr<Api> make_remote(const std::string& base_url) {
  auto endpoint = remote::parse_base_url(base_url);
  if (!endpoint) throw std::invalid_argument("catalog: not an http://host:port URL: " + base_url);
  return std::make_unique<RemoteCatalog>(*endpoint);
}

}  // namespace eshop::catalog
