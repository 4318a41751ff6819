#include "adapters/file_mail_sender.hpp"

#include <ctime>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include <eshop/clock.hpp>

namespace eshop::adapters {
namespace {

// RFC 5322 date: "Tue, 24 Nov 2026 10:00:00 +0000".
std::string mail_date(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Header values must not carry line breaks (header injection).
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

}  // namespace

std::string to_rfc5322(const MailMessage& m, const std::string& from, TimePoint date) {
  std::string body;
  for (std::size_t i = 0; i < m.text.size(); ++i) {  // normalize to CRLF
    if (m.text[i] == '\n' && (i == 0 || m.text[i - 1] != '\r')) body += '\r';
    body += m.text[i];
  }
  const auto to = m.to_name.empty() ? one_line(m.to) : fmt::format("\"{}\" <{}>", one_line(m.to_name), one_line(m.to));
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@eshop.local>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
      one_line(from), to, one_line(m.subject), mail_date(date), one_line(m.id), body);
}

void FileMailSender::send(const MailMessage& m) {
  std::filesystem::create_directories(dir_);
  const auto target = dir_ / (m.id + ".eml");
  if (std::filesystem::exists(target)) return;  // sent before
  const auto temp = dir_ / ("." + m.id + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << to_rfc5322(m, from_, std::chrono::system_clock::now());
    out.flush();
    if (!out) throw std::runtime_error("could not write " + temp.string());
  }
  std::filesystem::rename(temp, target);
}

}  // namespace eshop::adapters
