#include "store/signing_keys.h"

#include <spdlog/spdlog.h>

#include "crypto/jose.h"

namespace troad::store {

Result<bool> SigningKeys::EnsureCurrent() {
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(
      db_.Execute("DELETE FROM signing_keys WHERE state = 'retired' AND retired_at < ?",
                  {now - options_.retention.count() * 1000}));
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query("SELECT created_at FROM signing_keys WHERE state = 'current'"));
  if (!rows.empty()) {
    TROAD_ASSIGN_OR_RETURN(int64_t created, rows[0].Int(0));
    if (now - created < options_.rotate_after.count() * 1000) return false;
  }
  TROAD_RETURN_IF_ERROR(Rotate());
  return true;
}

void SigningKeys::CheckRotation(std::string_view what) {
  auto rotated = EnsureCurrent();
  if (!rotated) {
    spdlog::error("{} check: {}", what, rotated.error().message());
  } else if (*rotated) {
    spdlog::info("{} rotated: older than its rotation period", what);
  }
}

Result<std::string> SigningKeys::Rotate() {
  TROAD_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::GenerateEcP256());
  std::string kid = crypto::JwkThumbprint(key.Public());
  int64_t now = clock_.NowMillis();
  TROAD_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE state = 'current'", {now}));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO signing_keys (kid, private_key, state, created_at) VALUES (?, ?, 'current', ?)",
      {kid, key.ToPem(), now}));
  TROAD_RETURN_IF_ERROR(tx.Commit());
  return kid;
}

Result<SigningKey> SigningKeys::Current() {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT kid, private_key FROM signing_keys WHERE state = 'current'"));
  if (rows.empty()) return Fail(ErrorCode::kFailedPrecondition, "no current signing key");
  TROAD_ASSIGN_OR_RETURN(std::string kid, rows[0].Text(0));
  TROAD_ASSIGN_OR_RETURN(std::string pem, rows[0].Text(1));
  auto key = crypto::PrivateKey::FromPem(pem);
  if (!key) {
    return Fail(ErrorCode::kDataLoss, "signing key {}: {}", kid, key.error().message());
  }
  return SigningKey{std::move(kid), std::move(*key)};
}

Result<nlohmann::json> SigningKeys::Jwks() {
  int64_t oldest = clock_.NowMillis() - options_.retention.count() * 1000;
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query("SELECT kid, private_key FROM signing_keys WHERE state = 'current' "
                           "OR retired_at >= ? ORDER BY created_at DESC",
                           {oldest}));
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string kid, row.Text(0));
    TROAD_ASSIGN_OR_RETURN(std::string pem, row.Text(1));
    auto key = crypto::PrivateKey::FromPem(pem);
    if (!key) return Fail(ErrorCode::kDataLoss, "signing key {}: {}", kid, key.error().message());
    nlohmann::json jwk = crypto::PublicJwk(key->Public());
    jwk["kid"] = kid;
    jwk["use"] = "sig";
    jwk["alg"] = std::string(key->Algorithm());
    keys.push_back(std::move(jwk));
  }
  return nlohmann::json{{"keys", std::move(keys)}};
}

Result<std::string> SigningKeys::SignJwt(const nlohmann::json& claims) {
  TROAD_ASSIGN_OR_RETURN(SigningKey current, Current());
  return crypto::SignJws(current.key, {{"typ", "JWT"}, {"kid", current.kid}}, claims.dump());
}

}  // namespace troad::store
