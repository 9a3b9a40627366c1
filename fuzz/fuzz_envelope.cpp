// Fuzzes what a peer gateway sends: the envelope framing (DecodeEnvelope) and the
// header and signature parts inside it (ParseRequestHeader, ParseResponseHeader,
// ParseSignaturePart). Beyond not crashing: whatever parses re-serialises to text that
// parses to the same value, and what a part's parser accepts obeys its documented
// bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "gateway/envelope.h"

namespace troad::gateway {
namespace {

void CheckRequest(std::string_view text) {
  auto h = ParseRequestHeader(text);
  if (!h) return;
  FUZZ_CHECK(h->headers.size() <= 100);
  auto again = ParseRequestHeader(SerializeRequestHeader(*h));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->id == h->id && again->request_id == h->request_id);
  FUZZ_CHECK(again->client == h->client && again->service == h->service);
  FUZZ_CHECK(again->method == h->method && again->path == h->path && again->query == h->query);
  FUZZ_CHECK(again->user_id == h->user_id && again->issue == h->issue);
  FUZZ_CHECK(again->represented_party == h->represented_party);
  FUZZ_CHECK(again->consumer_gateway == h->consumer_gateway);
  FUZZ_CHECK(again->provider_gateway == h->provider_gateway);
  FUZZ_CHECK(again->time_ms == h->time_ms && again->body_length == h->body_length);
  FUZZ_CHECK(again->body_sha512 == h->body_sha512 && again->headers == h->headers);
}

void CheckResponse(std::string_view text) {
  auto h = ParseResponseHeader(text);
  if (!h) return;
  FUZZ_CHECK(h->status >= 100 && h->status <= 599);
  auto again = ParseResponseHeader(SerializeResponseHeader(*h));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->id == h->id && again->request_hash == h->request_hash);
  FUZZ_CHECK(again->client == h->client && again->service == h->service);
  FUZZ_CHECK(again->status == h->status && again->time_ms == h->time_ms);
  FUZZ_CHECK(again->body_sha512 == h->body_sha512 && again->headers == h->headers);
}

void CheckSignature(std::string_view text) {
  auto s = ParseSignaturePart(text);
  if (!s) return;
  FUZZ_CHECK(s->leaf_index < s->batch_size);
  FUZZ_CHECK(s->algorithm == "ES256" || s->algorithm == "RS256");
  FUZZ_CHECK(s->certificate_sha256.size() == 64);
  auto again = ParseSignaturePart(SerializeSignaturePart(*s));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->path == s->path && again->signature == s->signature);
  FUZZ_CHECK(again->batch_size == s->batch_size && again->leaf_index == s->leaf_index);
}

}  // namespace
}  // namespace troad::gateway

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::gateway;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto view = DecodeEnvelope(input);
  if (view) {
    FUZZ_CHECK(view->header.size() <= kMaxHeaderPartBytes);
    FUZZ_CHECK(view->signature.size() <= kMaxSignaturePartBytes);
    FUZZ_CHECK(8 + view->header.size() + 4 + view->signature.size() + view->payload.size() ==
               size);
    CheckRequest(view->header);
    CheckResponse(view->header);
    CheckSignature(view->signature);
  } else {
    // Inputs that are not envelopes still reach the part parsers directly.
    CheckRequest(input);
    CheckResponse(input);
    CheckSignature(input);
  }
  return 0;
}
