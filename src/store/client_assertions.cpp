#include "store/client_assertions.h"

namespace troad::store {

Status AcceptJtiOnce(Database& db, std::string_view client, std::string_view jti, int64_t exp_s,
                     int64_t now_ms) {
  TROAD_RETURN_IF_ERROR(
      db.Execute("DELETE FROM client_assertions WHERE expires_at < ?", {now_ms - 60'000}));
  TROAD_ASSIGN_OR_RETURN(auto used,
                         db.Query("SELECT 1 FROM client_assertions WHERE client = ? AND jti = ?",
                                  {std::string(client), std::string(jti)}));
  if (!used.empty()) {
    return Fail(ErrorCode::kUnauthenticated, "client_assertion: jti was already used (replay)");
  }
  return db
      .Execute("INSERT INTO client_assertions (client, jti, expires_at) VALUES (?, ?, ?)",
               {std::string(client), std::string(jti), (exp_s + 60) * 1000})
      .map([](int64_t) {});
}

}  // namespace troad::store
