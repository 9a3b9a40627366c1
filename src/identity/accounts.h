// People and the sign-in methods linked to them.
//
// A person is known by their national id (身分證統一編號). The operator registers people
// (`troad idp person add`) or a registry lookup does (dual-document, citizen
// certificate); a person then links methods to themself after signing in: a TOTP
// secret, passkeys, citizen certificates. The mobile number for SMS codes is the one
// registered with the person.
//
// Thread-safety: one store::Database connection; use from one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "identity/totp.h"
#include "store/database.h"

namespace troad::identity {

// A Taiwanese national id: one capital letter, then 1 or 2 (or 8/9 for the newer
// resident certificate numbers), then eight digits, with the check digit of the
// Ministry of the Interior's weighted sum. kInvalidArgument says which rule failed.
Status ValidateNationalId(std::string_view id);
// A mobile number as 09XXXXXXXX (Taiwan) or +E.164.
Status ValidateMobile(std::string_view mobile);

struct Person {
  std::string id;  // opaque, random; the "public" subject
  std::string national_id;
  std::string name;
  std::string mobile;
};

struct Passkey {
  std::string id;  // base64url credential id
  std::string public_key_der;
  std::string algorithm;
  int64_t sign_count = 0;
  std::string label;
  int64_t created_at = 0;
  std::optional<int64_t> last_used_at;
};

// Which methods a person has linked, for the sign-in and account pages.
struct LinkedMethods {
  bool totp = false;  // a confirmed TOTP secret
  bool sms = false;   // a mobile number is registered
  size_t passkeys = 0;
  size_t certificates = 0;
};

class Accounts {
 public:
  Accounts(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // kAlreadyExists when the national id is registered.
  Result<Person> AddPerson(std::string_view national_id, std::string_view name,
                           std::string_view mobile);
  Result<Person> Get(std::string_view person_id);
  // kNotFound when nobody has this national id.
  Result<Person> FindByNationalId(std::string_view national_id);
  Status SetMobile(std::string_view person_id, std::string_view mobile);
  Result<LinkedMethods> Methods(std::string_view person_id);

  // TOTP: Begin stores an unconfirmed secret (replacing an unconfirmed one) and returns
  // it; Confirm checks a first code from the app and makes it usable. Verify checks a
  // sign-in code and records its step, so it is never accepted again.
  Result<std::string> BeginTotp(std::string_view person_id);
  Status ConfirmTotp(std::string_view person_id, std::string_view code);
  Status VerifyTotp(std::string_view person_id, std::string_view code);
  Status RemoveTotp(std::string_view person_id);

  Status AddPasskey(std::string_view person_id, const Passkey& passkey);
  Result<std::vector<Passkey>> Passkeys(std::string_view person_id);
  // The passkey and its owner, for usernameless sign-in; kNotFound.
  Result<std::pair<std::string, Passkey>> FindPasskey(std::string_view credential_id);
  Status UpdatePasskeyCounter(std::string_view credential_id, int64_t sign_count);
  Status RemovePasskey(std::string_view person_id, std::string_view credential_id);

  // Citizen certificates: (issuer, card id) → person.
  Status LinkCertificate(std::string_view person_id, std::string_view issuer,
                         std::string_view card_id);
  // kNotFound when no person has linked this certificate.
  Result<std::string> PersonForCertificate(std::string_view issuer, std::string_view card_id);

  TotpParameters totp_parameters() const { return {}; }

 private:
  Result<Person> FindOne(std::string_view where, std::string_view value);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace troad::identity
