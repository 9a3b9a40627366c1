// Sending one-time codes by SMS, behind one interface with two senders:
//  - HttpSmsSender: POSTs {"to": "+8869…", "text": "…", "sender": "<sender id>"} as JSON
//    to the SMS gateway at a configured URL (with an optional bearer token) and expects
//    a 2xx answer. Most commercial SMS gateways take a JSON POST of this shape; a
//    different shape is a few lines in a small relay.
//  - FileSmsSender: appends one JSON line per message to a file (development, the demo
//    and tests read codes from it). Each line is written with one write() and fsynced.
//
// Thread-safety: Send may be called from one thread at a time per sender.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace troad::identity {

class SmsSender {
 public:
  virtual ~SmsSender() = default;
  // kUnavailable when the message could not be handed over; the caller tells the
  // person to try again or use another method.
  virtual Status Send(std::string_view to, std::string_view text) = 0;
};

struct SmsOptions {
  // "file:/path/to/sms.jsonl" or "http://…" / "https://…" (the gateway's URL).
  std::string target;
  std::string bearer_token;  // sent as Authorization: Bearer … to an HTTP gateway
  std::string sender_id = "troad";
  std::chrono::milliseconds timeout{5'000};
};

// kInvalidArgument when `target` is neither a file: nor an http(s): URL.
Result<std::unique_ptr<SmsSender>> MakeSmsSender(const SmsOptions& options, const Clock& clock);

}  // namespace troad::identity
