// Test helpers for globalconf's tests: the smallest valid global configuration.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "crypto/ca.h"

namespace troad::globalconf::testing {

// A valid document of `version`, issued 2026-01-01: one CA, one member.
inline std::string MinimalDocument(int64_t version, std::string instance = "TW",
                                   std::string expires_at = "2026-01-31T00:00:00Z") {
  static const std::string ca_pem = [] {
    FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
    auto key = crypto::PrivateKey::GenerateEcP256();
    crypto::CertificateRequest req;
    req.common_name = "TW test CA";
    return crypto::CreateSelfSignedCa(*key, req, clock)->ToPem();
  }();
  nlohmann::json doc = {{"format", "troad-globalconf/1"},
                        {"instance", instance},
                        {"version", version},
                        {"issued_at", "2026-01-01T00:00:00Z"},
                        {"expires_at", expires_at},
                        {"trusted_cas", {ca_pem}},
                        {"members", {{{"id", instance + "/GOV/MOI"}, {"name", "內政部"}}}}};
  return doc.dump(2);
}

}  // namespace troad::globalconf::testing
