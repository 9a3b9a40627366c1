// The consent record (docs/mydata.md, "Consent record"): who agreed that which datasets
// go to whom, for what, on what legal basis, when, and how surely they had proved who
// they are. MyData signs each record as a compact JWS (ES256, crypto/jose.h) with its
// own key, named by "kid" in its published JWKS, so that an auditor can check a record
// with any JOSE library — or with `openssl dgst` — without trusting MyData's database.
//
// A record never changes. A status change (active → consumed, or expired) is a new
// signed record with the same consent_id and a later issued_at; the latest one counts.
//
// Pure functions (the key and the time are passed in). Thread-safety: none needed.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/key.h"

namespace troad::mydata {

// The JWS "typ" of a consent record (RFC 8725 §3.11: explicit typing, so that no other
// token MyData signs can be passed off as a consent).
inline constexpr std::string_view kConsentJwsType = "troad-consent+jwt";

enum class ConsentStatus {
  kActive,    // given, not yet used
  kConsumed,  // used for the one delivery it allowed (single use)
  kExpired,   // not used before expires_at
  kRefused,   // the person said no: recorded too, so the service provider hears it
};

std::string_view ConsentStatusName(ConsentStatus status);  // "active", …

struct ConsentRecord {
  std::string consent_id;   // a UUID
  std::string transaction;  // the transaction it belongs to
  // Who: the subject the idp gave MyData (pairwise), and the national id masked as the
  // person sees it on the page ("A12****789"). The record names no one in full.
  std::string subject;
  std::string national_id_masked;
  std::vector<std::string> datasets;  // catalogue ids, at least one, no repeats
  // To whom: "service_provider" with its client id, "counter" with its client id, or
  // "self" (the person downloads it; recipient_id is empty).
  std::string recipient_type;
  std::string recipient_id;
  std::string purpose;  // as the service provider registered it and the person saw it
  std::string legal_basis;  // e.g. "個人資料保護法第 6 條第 1 項第 6 款（當事人書面同意）"
  std::string acr;  // the assurance the sign-in achieved
  std::vector<std::string> amr;
  bool single_use = true;
  ConsentStatus status = ConsentStatus::kActive;
  int64_t consented_at = 0;  // Unix ms: when the person agreed (or refused)
  int64_t expires_at = 0;    // Unix ms: after this it is of no use
  int64_t issued_at = 0;     // Unix ms: when this signed version was made
};

// kInvalidArgument naming the field: empty ids, no datasets or a repeated one, an
// unknown recipient type (or a missing recipient id for one that needs it), an empty
// purpose or legal basis, an acr that is not one of the idp's, an empty amr, times out
// of order (consented_at ≤ issued_at, consented_at < expires_at), text that is not
// UTF-8 or holds control characters, more than 50 datasets.
Status ValidateConsent(const ConsentRecord& record);

// The JWS payload, both ways: {"consent_id","transaction","sub","national_id_masked",
// "datasets","recipient":{"type","id"},"purpose","legal_basis","acr","amr",
// "single_use","status","consented_at","expires_at","iat"} (times in Unix ms; "iat" too).
nlohmann::json ConsentToJson(const ConsentRecord& record);
Result<ConsentRecord> ConsentFromJson(const nlohmann::json& json);

// The record signed with `key` (a P-256 key: ES256), header {"typ","kid"}.
Result<std::string> SignConsent(const ConsentRecord& record, const crypto::PrivateKey& key,
                                std::string_view kid);

// Checks a signed record against MyData's JWKS ({"keys":[…]}, each with a "kid"): the
// "typ" must be kConsentJwsType, the "kid" one of the set, the signature ES256 by that
// key, and the payload a valid record. kInvalidArgument for a malformed JWS or payload
// (naming what), kNotFound for an unknown kid, kUnauthenticated for a signature that
// does not verify or another typ.
Result<ConsentRecord> VerifyConsent(std::string_view jws, const nlohmann::json& jwks);

}  // namespace troad::mydata
