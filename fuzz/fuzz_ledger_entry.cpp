// Fuzzes the ledger entry parser (ledger/entry.h), the form in which gateways' record
// digests reach the central ledger. Beyond not crashing:
//   - one text per entry: an accepted entry encodes back to exactly the input, so an
//     entry has one leaf hash and a resent entry is byte-identical;
//   - what parses is allowed: within the size limit, and every value in its range;
//   - LedgerText makes any bytes a text value Encode accepts, unchanged if allowed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ledger/entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::ledger;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Any bytes, as a text value: allowed after LedgerText, which changes nothing twice.
  const std::string text = LedgerText(input);
  FUZZ_CHECK(text.size() <= kMaxLedgerTextBytes);
  FUZZ_CHECK(LedgerText(text) == text);

  auto parsed = ParseLedgerEntry(input);
  if (!parsed) return 0;
  auto written = EncodeLedgerEntry(*parsed);
  FUZZ_CHECK(written && *written == input);
  FUZZ_CHECK(input.size() <= kMaxLedgerEntryBytes);
  FUZZ_CHECK(parsed->seq >= 1);
  FUZZ_CHECK(parsed->status >= 0 && parsed->status <= 999);
  FUZZ_CHECK(parsed->request_time_ms >= 0 && parsed->response_time_ms >= 0);
  FUZZ_CHECK(parsed->record.size() == 64);
  FUZZ_CHECK(parsed->side == kLedgerSideConsumer || parsed->side == kLedgerSideProvider);
  FUZZ_CHECK(!parsed->request_id.empty());
  for (const std::string* value : {&parsed->message_id, &parsed->request_id, &parsed->client,
                                   &parsed->service, &parsed->fault}) {
    FUZZ_CHECK(LedgerText(*value) == *value);
  }
  return 0;
}
