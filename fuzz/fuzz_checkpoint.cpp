// Fuzzes the signed checkpoint parser (ledger/checkpoint.h), the form in which the
// ledger's tree heads reach gateways and auditors. Beyond not crashing:
//   - one text per checkpoint: an accepted note formats back to exactly the input, and
//     its note text is exactly what CheckpointText writes for the parsed values;
//   - the same for bare note text (ParseCheckpointText);
//   - only what the key signed verifies. The seeds in corpus/fuzz_checkpoint/ were
//     signed with the private half of kFuzzLogKey (thrown away afterwards) over
//     exactly the two note texts below, so no other text may verify under it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/key.h"
#include "fuzz_check.h"
#include "ledger/checkpoint.h"

namespace {

constexpr std::string_view kFuzzLogKey = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEP9EPS/xPerBnLTxd96vxuH8mR5j1
/Bz2iuw9ERAqwR+KGrlZpSblFCIW0Vcs82KXkYSsozgh7SN/jCwxo9RFJw==
-----END PUBLIC KEY-----
)";

constexpr std::string_view kSignedTexts[] = {
    "ledger.troad.tw/fuzz\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n"
    "timestamp 1767225600000\n",
    "ledger.troad.tw/fuzz\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntimestamp 0\n",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troad::ledger;
  static const troad::crypto::PublicKey key = *troad::crypto::PublicKey::FromPem(kFuzzLogKey);
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto text = ParseCheckpointText(input)) {
    auto written = CheckpointText(*text);
    FUZZ_CHECK(written && *written == input);
  }

  auto parsed = ParseSignedCheckpoint(input);
  if (!parsed) return 0;
  FUZZ_CHECK(FormatSignedCheckpoint(*parsed) == input);
  auto written = CheckpointText(parsed->checkpoint);
  FUZZ_CHECK(written && *written == parsed->text);
  FUZZ_CHECK(parsed->checkpoint.size <= kMaxCheckpointNumber);
  FUZZ_CHECK(parsed->checkpoint.timestamp_ms >= 0);
  FUZZ_CHECK(!parsed->signature.empty());

  if (VerifyCheckpointSignature(*parsed, key)) {
    bool signed_text = false;
    for (std::string_view t : kSignedTexts) signed_text = signed_text || parsed->text == t;
    FUZZ_CHECK(signed_text);
    auto verified = VerifyCheckpoint(input, key);
    FUZZ_CHECK(verified && *verified == parsed->checkpoint);
  }
  return 0;
}
