// Notices (docs/mydata.md, "Notices and usage record"): every use of a person's data
// — a package delivered, downloaded or redeemed at a counter — is told to them by e-mail
// (or SMS), naming the service provider, the datasets and the time. E-mail goes by SMTP
// (RFC 5321) through libcurl to the operator's mail relay, with STARTTLS when the URL
// is smtp:// and the relay offers it (required with `require_tls`), or implicit TLS
// with smtps://.
//
// Thread-safety: ComposeEmail and UsageNotice are pure; SendEmail blocks (up to the
// timeout) and must not run on the database thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace troad::mydata {

struct SmtpOptions {
  std::string url = "smtp://127.0.0.1:25";  // smtp://host:port or smtps://host:port
  std::string from = "mydata@localhost";    // the envelope and header sender
  bool require_tls = false;                 // refuse to send unless STARTTLS succeeds
  std::chrono::milliseconds timeout{10'000};
};

struct Email {
  std::string to;
  std::string subject;  // UTF-8
  std::string body;     // UTF-8 text
};

// kInvalidArgument unless `address` is one plain mailbox, local@domain, at most 254
// bytes, with no spaces, angle brackets, quotes, commas or control characters (nothing
// that could add a header or a recipient).
Status ValidateEmailAddress(std::string_view address);

// The message as sent (RFC 5322, CRLF line ends): From, To, Subject (RFC 2047 encoded
// words when not ASCII), Date, Message-ID, MIME-Version, text/plain; charset=UTF-8, and
// the body in base64 lines of 76 characters.
std::string ComposeEmail(const SmtpOptions& smtp, const Email& email, SystemTime now,
                         std::string_view message_id);

// What a person is told when their data is used: in Traditional Chinese, then English.
Email UsageNotice(std::string to, std::string_view service_provider_zh,
                  std::string_view service_provider_en,
                  const std::vector<std::string>& dataset_names_zh, SystemTime when);

// Sends `email` through the relay. kInvalidArgument for a bad address; kUnavailable
// naming what the relay said or why it could not be reached; kDeadlineExceeded on the
// timeout.
Status SendEmail(const SmtpOptions& smtp, const Email& email, SystemTime now);

}  // namespace troad::mydata
