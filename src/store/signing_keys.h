// A rotating set of ES256 signing keys kept in a database table, and the JWKS that
// publishes them: the keys `troad idp` signs ID tokens with and `troad mydata` signs
// consent records with.
//
// One key is current and signs; retired keys stay in the JWKS for `retention` (longer
// than any token signed with them is checked, so tokens signed just before a rotation
// still verify) and then leave it. Rotate() makes a new current key at once: relying parties fetch
// the JWKS again when they meet an unknown "kid" (OpenID Connect Core §10.1.1), which every
// mainstream client library does. EnsureCurrent() rotates when the current key is older than
// `rotate_after` (checked at start-up and hourly by the server).
//
// Keys live in the database (PKCS#8 PEM, table kSigningKeysTableSql) so that several
// nodes on one database sign with the same key; protect the database file as a key
// file (mode 0600).
//
// Thread-safety: one Database connection; use from one thread at a time.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"
#include "store/database.h"

namespace troad::store {

// The table, for a process's migrations.
inline constexpr std::string_view kSigningKeysTableSql = R"sql(
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  private_key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('current', 'retired')),
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
)sql";

struct SigningKeyOptions {
  std::chrono::seconds rotate_after{90 * 24 * 3600};
  std::chrono::seconds retention{7 * 24 * 3600};
};

struct SigningKey {
  std::string kid;  // the RFC 7638 thumbprint
  crypto::PrivateKey key;
};

class SigningKeys {
 public:
  SigningKeys(Database& db, const Clock& clock, SigningKeyOptions options)
      : db_(db), clock_(clock), options_(options) {}

  // Makes a key when there is none, or a new one when the current one is older than
  // rotate_after; drops retired keys past retention. Returns whether it rotated.
  Result<bool> EnsureCurrent();
  // EnsureCurrent for the server's periodic check: a rotation or a failure is logged,
  // naming the keys as `what` ("ID token signing key").
  void CheckRotation(std::string_view what);
  // A new current key now; the old one is retired. Returns the new kid.
  Result<std::string> Rotate();
  Result<SigningKey> Current();
  // {"keys":[…]}: the current key and the retired keys still within retention, each
  // with "kid", "use":"sig", "alg":"ES256".
  Result<nlohmann::json> Jwks();
  // Signs `claims` as a JWT ({"alg":"ES256","typ":"JWT","kid":…}).
  Result<std::string> SignJwt(const nlohmann::json& claims);

 private:
  Database& db_;
  const Clock& clock_;
  SigningKeyOptions options_;
};

}  // namespace troad::store
