#include "mydata/notice.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "core/encoding.h"
#include "crypto/random.h"

namespace troad::mydata {
namespace {

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 2047 "B" encoded words of at most 75 characters, split on UTF-8 boundaries.
std::string EncodedWords(std::string_view text) {
  if (IsAscii(text)) return std::string(text);
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    // 39 bytes of UTF-8 → 52 base64 characters + 12 of "=?UTF-8?B??=" = 64, and with
    // "Subject: " 73: within RFC 5322's 78.
    while (end < text.size()) {
      size_t len = Utf8SequenceAt(text, end);
      if (len == 0) len = 1;
      if (end + len - i > 39) break;
      end += len;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

struct Upload {
  std::string_view data;
  size_t at = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t n = std::min(size * count, u->data.size() - u->at);
  std::copy_n(u->data.data() + u->at, n, buffer);
  u->at += n;
  return n;
}

}  // namespace

Status ValidateEmailAddress(std::string_view a) {
  size_t at = a.find('@');
  bool ok = !a.empty() && a.size() <= 254 && at != std::string_view::npos && at > 0 &&
            at + 1 < a.size() && a.find('@', at + 1) == std::string_view::npos &&
            a.substr(at + 1).find('.') != std::string_view::npos &&
            std::none_of(a.begin(), a.end(), [](char c) {
              auto u = static_cast<unsigned char>(c);
              return u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' ||
                     c == ';' || c == '(' || c == ')' || c == '\\';
            });
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument, "\"{}\" is not an e-mail address (local@domain)",
                EscapeForLog(a, 80));
  }
  return Ok();
}

std::string ComposeEmail(const SmtpOptions& smtp, const Email& email, SystemTime now,
                         std::string_view message_id) {
  std::string encoded = Base64Encode(email.body);
  std::string body;
  for (size_t i = 0; i < encoded.size(); i += 76) body += encoded.substr(i, 76) + "\r\n";
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string domain = smtp.from.substr(smtp.from.find('@') + 1);
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@{}>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n{}",
      smtp.from, email.to, EncodedWords(email.subject), date, message_id, domain, body);
}

Email UsageNotice(std::string to, std::string_view sp_zh, std::string_view sp_en,
                  const std::vector<std::string>& datasets_zh, SystemTime when) {
  std::string list;
  for (const auto& d : datasets_zh) list += "  - " + d + "\n";
  // Taipei time for the person; UTC alongside for the record.
  std::string taipei = FormatRfc3339(when + std::chrono::hours(8)).substr(0, 19);
  std::replace(taipei.begin(), taipei.end(), 'T', ' ');
  Email e;
  e.to = std::move(to);
  e.subject = fmt::format("MyData 個人資料使用通知：{}", sp_zh);
  e.body = fmt::format(
      "您好：\n\n您的個人資料已於 {} （臺北時間）依您的同意提供給「{}」：\n{}\n"
      "如非您本人同意，請立即至 MyData 會員專區查看使用紀錄並與我們聯絡。\n\n"
      "Your personal data was delivered with your consent to {} at {} (Taipei time, {} UTC).\n"
      "If you did not agree to this, check the usage record in MyData and contact us.\n",
      taipei, sp_zh, list, sp_en, taipei, FormatRfc3339(when));
  return e;
}

Status SendEmail(const SmtpOptions& smtp, const Email& email, SystemTime now) {
  TROAD_RETURN_IF_ERROR(ValidateEmailAddress(email.to));
  TROAD_RETURN_IF_ERROR(ValidateEmailAddress(smtp.from));
  std::string message = ComposeEmail(smtp, email, now, crypto::NewUuid());
  // curl_global_init is not thread-safe; a function-local static runs it once.
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return Fail(ErrorCode::kInternal, "libcurl could not initialise");
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return Fail(ErrorCode::kInternal, "libcurl could not start");
  std::string from = "<" + smtp.from + ">";
  std::unique_ptr<curl_slist, SlistFree> rcpt(
      curl_slist_append(nullptr, ("<" + email.to + ">").c_str()));
  Upload upload{message};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, smtp.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(smtp.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USE_SSL, smtp.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Fail(ErrorCode::kDeadlineExceeded, "mail relay {}: no answer within {} ms", smtp.url,
                smtp.timeout.count());
  }
  if (rc != CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return Fail(ErrorCode::kUnavailable, "mail relay {}: {}{}", smtp.url,
                error[0] ? error : curl_easy_strerror(rc),
                code ? fmt::format(" (reply {})", code) : std::string());
  }
  return Ok();
}

}  // namespace troad::mydata
