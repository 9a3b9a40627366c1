#include "mydata/consent.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/encoding.h"
#include "core/json.h"
#include "crypto/jose.h"
#include "mydata/validate.h"

namespace troad::mydata {
namespace {

constexpr std::pair<ConsentStatus, std::string_view> kStatusNames[] = {
    {ConsentStatus::kActive, "active"},
    {ConsentStatus::kConsumed, "consumed"},
    {ConsentStatus::kExpired, "expired"},
    {ConsentStatus::kRefused, "refused"},
};
constexpr size_t kMaxDatasets = 50;
constexpr size_t kMaxText = 2000;

// Members of a JSON object, with the member named in every refusal.
class Reader {
 public:
  explicit Reader(const nlohmann::json& json, std::string prefix = "")
      : json_(json), prefix_(std::move(prefix)) {}
  Status String(const char* key, std::string& out) {
    auto it = json_.find(key);
    if (it == json_.end() || !it->is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "{}{}: required, a string", prefix_, key);
    }
    out = it->get<std::string>();
    return Ok();
  }
  Status Millis(const char* key, int64_t& out) {
    auto it = json_.find(key);
    if (it == json_.end() || !it->is_number_integer()) {
      return Fail(ErrorCode::kInvalidArgument, "{}: required, Unix milliseconds", key);
    }
    out = it->get<int64_t>();
    return Ok();
  }
  Status Strings(const char* key, std::vector<std::string>& out) {
    auto it = json_.find(key);
    if (it == json_.end() || !it->is_array()) {
      return Fail(ErrorCode::kInvalidArgument, "{}: required, an array of strings", key);
    }
    for (const auto& v : *it) {
      if (!v.is_string()) {
        return Fail(ErrorCode::kInvalidArgument, "{}: required, an array of strings", key);
      }
      out.push_back(v.get<std::string>());
    }
    return Ok();
  }

 private:
  const nlohmann::json& json_;
  std::string prefix_;  // "recipient." for members of a nested object
};

}  // namespace

std::string_view ConsentStatusName(ConsentStatus status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "?";
}

Status ValidateConsent(const ConsentRecord& r) {
  TROAD_RETURN_IF_ERROR(ValidateText("consent_id", r.consent_id, kMaxText));
  TROAD_RETURN_IF_ERROR(ValidateText("transaction", r.transaction, kMaxText));
  TROAD_RETURN_IF_ERROR(ValidateText("sub", r.subject, kMaxText));
  TROAD_RETURN_IF_ERROR(ValidateText("national_id_masked", r.national_id_masked, kMaxText));
  if (r.datasets.empty() || r.datasets.size() > kMaxDatasets) {
    return Fail(ErrorCode::kInvalidArgument, "datasets: 1 to {} catalogue ids, not {}",
                kMaxDatasets, r.datasets.size());
  }
  std::set<std::string_view> seen;
  for (const auto& d : r.datasets) {
    TROAD_RETURN_IF_ERROR(ValidateText("datasets", d, kMaxText));
    if (!seen.insert(d).second) {
      return Fail(ErrorCode::kInvalidArgument, "datasets: {} is named twice", EscapeForLog(d, 80));
    }
  }
  if (r.recipient_type == "self") {
    if (!r.recipient_id.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "recipient.id: must be empty for \"self\"");
    }
  } else if (r.recipient_type == "service_provider" || r.recipient_type == "counter") {
    TROAD_RETURN_IF_ERROR(ValidateText("recipient.id", r.recipient_id, kMaxText));
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "recipient.type: \"self\", \"service_provider\" or \"counter\", not \"{}\"",
                EscapeForLog(r.recipient_type, 40));
  }
  TROAD_RETURN_IF_ERROR(ValidateText("purpose", r.purpose, kMaxText));
  TROAD_RETURN_IF_ERROR(ValidateText("legal_basis", r.legal_basis, kMaxText));
  if (!IsIdpAcr(r.acr)) {
    return Fail(ErrorCode::kInvalidArgument, "acr: one of the idp's values, not \"{}\"",
                EscapeForLog(r.acr, 80));
  }
  if (r.amr.empty()) return Fail(ErrorCode::kInvalidArgument, "amr: at least one method");
  for (const auto& m : r.amr) TROAD_RETURN_IF_ERROR(ValidateText("amr", m, kMaxText));
  if (r.consented_at <= 0 || r.consented_at >= r.expires_at) {
    return Fail(ErrorCode::kInvalidArgument, "consented_at: must be before expires_at");
  }
  if (r.issued_at < r.consented_at) {
    return Fail(ErrorCode::kInvalidArgument, "iat: must not be before consented_at");
  }
  return Ok();
}

nlohmann::json ConsentToJson(const ConsentRecord& r) {
  return {{"consent_id", r.consent_id},
          {"transaction", r.transaction},
          {"sub", r.subject},
          {"national_id_masked", r.national_id_masked},
          {"datasets", r.datasets},
          {"recipient", {{"type", r.recipient_type}, {"id", r.recipient_id}}},
          {"purpose", r.purpose},
          {"legal_basis", r.legal_basis},
          {"acr", r.acr},
          {"amr", r.amr},
          {"single_use", r.single_use},
          {"status", ConsentStatusName(r.status)},
          {"consented_at", r.consented_at},
          {"expires_at", r.expires_at},
          {"iat", r.issued_at}};
}

Result<ConsentRecord> ConsentFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "a consent record is a JSON object");
  }
  ConsentRecord r;
  Reader in(json);
  TROAD_RETURN_IF_ERROR(in.String("consent_id", r.consent_id));
  TROAD_RETURN_IF_ERROR(in.String("transaction", r.transaction));
  TROAD_RETURN_IF_ERROR(in.String("sub", r.subject));
  TROAD_RETURN_IF_ERROR(in.String("national_id_masked", r.national_id_masked));
  TROAD_RETURN_IF_ERROR(in.Strings("datasets", r.datasets));
  auto recipient = json.find("recipient");
  if (recipient == json.end() || !recipient->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "recipient: required, {{\"type\", \"id\"}}");
  }
  Reader to(*recipient, "recipient.");
  TROAD_RETURN_IF_ERROR(to.String("type", r.recipient_type));
  TROAD_RETURN_IF_ERROR(to.String("id", r.recipient_id));
  TROAD_RETURN_IF_ERROR(in.String("purpose", r.purpose));
  TROAD_RETURN_IF_ERROR(in.String("legal_basis", r.legal_basis));
  TROAD_RETURN_IF_ERROR(in.String("acr", r.acr));
  TROAD_RETURN_IF_ERROR(in.Strings("amr", r.amr));
  auto single = json.find("single_use");
  if (single == json.end() || !single->is_boolean()) {
    return Fail(ErrorCode::kInvalidArgument, "single_use: required, true or false");
  }
  r.single_use = single->get<bool>();
  std::string status;
  TROAD_RETURN_IF_ERROR(in.String("status", status));
  bool known = false;
  for (const auto& [s, name] : kStatusNames) {
    if (name == status) {
      r.status = s;
      known = true;
    }
  }
  if (!known) {
    return Fail(ErrorCode::kInvalidArgument,
                "status: active, consumed, expired or refused, not \"{}\"",
                EscapeForLog(status, 40));
  }
  TROAD_RETURN_IF_ERROR(in.Millis("consented_at", r.consented_at));
  TROAD_RETURN_IF_ERROR(in.Millis("expires_at", r.expires_at));
  TROAD_RETURN_IF_ERROR(in.Millis("iat", r.issued_at));
  TROAD_RETURN_IF_ERROR(ValidateConsent(r));
  return r;
}

Result<std::string> SignConsent(const ConsentRecord& record, const crypto::PrivateKey& key,
                                std::string_view kid) {
  TROAD_RETURN_IF_ERROR(ValidateConsent(record));
  if (kid.empty()) return Fail(ErrorCode::kInvalidArgument, "kid: required");
  return crypto::SignJws(key, {{"typ", kConsentJwsType}, {"kid", kid}},
                         ConsentToJson(record).dump());
}

Result<ConsentRecord> VerifyConsent(std::string_view compact, const nlohmann::json& jwks) {
  TROAD_ASSIGN_OR_RETURN(crypto::Jws jws, crypto::ParseJws(compact));
  auto typ = jws.header.find("typ");
  if (typ == jws.header.end() || *typ != kConsentJwsType) {
    return Fail(ErrorCode::kUnauthenticated, "not a consent record (typ is not {})",
                kConsentJwsType);
  }
  auto kid = jws.header.find("kid");
  if (kid == jws.header.end() || !kid->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "the consent record names no kid");
  }
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return Fail(ErrorCode::kInvalidArgument, "the JWKS is not {{\"keys\": [...]}}");
  }
  for (const auto& jwk : jwks["keys"]) {
    if (!jwk.is_object() || jwk.value("kid", nlohmann::json()) != *kid) continue;
    nlohmann::json bare = jwk;
    bare.erase("kid");
    TROAD_ASSIGN_OR_RETURN(crypto::PublicKey key, crypto::PublicKeyFromJwk(bare));
    TROAD_RETURN_IF_ERROR(crypto::VerifyJws(jws, key));
    auto payload = ParseJson(jws.payload, "consent record", 8);
    if (!payload) {
      return Fail(ErrorCode::kInvalidArgument, "the consent record's payload: {}",
                  payload.error().message());
    }
    return ConsentFromJson(*payload);
  }
  return Fail(ErrorCode::kNotFound, "no key {} in MyData's JWKS", EscapeForLog(kid->dump(), 80));
}

}  // namespace troad::mydata
