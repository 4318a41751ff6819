#pragma once
// The mail port: sends one message. The default adapter writes RFC 5322 files.
#include <string>

namespace eshop {

struct MailMessage {
  std::string id;  // unique; sending the same id twice delivers it once
  std::string to;
  std::string to_name;
  std::string subject;
  std::string text;  // plain text body
};

class MailSender {
 public:
  virtual ~MailSender() = default;
  // Throws when the message could not be handed over (the caller retries).
  virtual void send(const MailMessage& message) = 0;
};

}  // namespace eshop
