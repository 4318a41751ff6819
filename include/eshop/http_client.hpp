#pragma once
// A small synchronous HTTP/1.1 client (remote module calls, tests). Keeps one connection.
#include <chrono>
#include <memory>
#include <string>

#include <eshop/http.hpp>

namespace eshop::http {

class Client final {
 public:
  Client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request` (method, target, headers, body) and returns the response.
  // Throws std::runtime_error on connection failure or timeout.
  Response send(const Request& request);
  Response get(const std::string& target, const std::string& bearer = "");
  Response post(const std::string& target, const std::string& json, const std::string& bearer = "");
  Response put(const std::string& target, const std::string& json, const std::string& bearer = "");
  Response del(const std::string& target, const std::string& bearer = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eshop::http
