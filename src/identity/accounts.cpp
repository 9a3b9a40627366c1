#include "identity/accounts.h"

#include "core/encoding.h"
#include "crypto/random.h"

namespace troad::identity {
namespace {

// The TOTP window: the step before and after the current one (±30 s).
constexpr int kTotpWindow = 1;

}  // namespace

Status ValidateNationalId(std::string_view id) {
  if (id.size() != 10) {
    return Fail(ErrorCode::kInvalidArgument, "a national id has 10 characters, not {}", id.size());
  }
  if (id[0] < 'A' || id[0] > 'Z') {
    return Fail(ErrorCode::kInvalidArgument, "a national id starts with a capital letter");
  }
  for (size_t i = 1; i < 10; ++i) {
    if (id[i] < '0' || id[i] > '9') {
      return Fail(ErrorCode::kInvalidArgument, "a national id has nine digits after the letter");
    }
  }
  if (id[1] != '1' && id[1] != '2' && id[1] != '8' && id[1] != '9') {
    return Fail(ErrorCode::kInvalidArgument, "a national id's second character is 1, 2, 8 or 9");
  }
  // The letter's two-digit code (A=10 … Z=33, in the registry's historical order).
  static constexpr int kLetterCode[26] = {10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
                                          22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33};
  int code = kLetterCode[id[0] - 'A'];
  int sum = code / 10 + (code % 10) * 9;
  for (size_t i = 1; i < 9; ++i) sum += (id[i] - '0') * static_cast<int>(9 - i);
  sum += id[9] - '0';
  if (sum % 10 != 0) {
    return Fail(ErrorCode::kInvalidArgument, "the national id's check digit does not match");
  }
  return Ok();
}

Status ValidateMobile(std::string_view mobile) {
  auto digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (mobile.size() == 10 && mobile.starts_with("09") && digits(mobile)) return Ok();
  if (mobile.size() >= 9 && mobile.size() <= 16 && mobile.starts_with("+") &&
      digits(mobile.substr(1))) {
    return Ok();
  }
  return Fail(ErrorCode::kInvalidArgument,
              "a mobile number is 09 and eight digits, or + and the international number");
}

Result<Person> Accounts::AddPerson(std::string_view national_id, std::string_view name,
                                   std::string_view mobile) {
  TROAD_RETURN_IF_ERROR(ValidateNationalId(national_id));
  TROAD_RETURN_IF_ERROR(CheckText("name", name, 200, true, false));
  if (!mobile.empty()) TROAD_RETURN_IF_ERROR(ValidateMobile(mobile));
  if (FindByNationalId(national_id)) {
    return Fail(ErrorCode::kAlreadyExists, "a person with this national id is registered");
  }
  Person p{Base64UrlEncode(crypto::RandomBytes(16)), std::string(national_id), std::string(name),
           std::string(mobile)};
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO persons (id, national_id, name, mobile, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  {p.id, p.national_id, p.name, p.mobile, now, now}));
  return p;
}

Result<Person> Accounts::FindOne(std::string_view where, std::string_view value) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT id, national_id, name, mobile FROM persons WHERE {}", where),
                {std::string(value)}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such person");
  Person p;
  TROAD_ASSIGN_OR_RETURN(p.id, rows[0].Text(0));
  TROAD_ASSIGN_OR_RETURN(p.national_id, rows[0].Text(1));
  TROAD_ASSIGN_OR_RETURN(p.name, rows[0].Text(2));
  TROAD_ASSIGN_OR_RETURN(p.mobile, rows[0].Text(3));
  return p;
}

Result<Person> Accounts::Get(std::string_view person_id) { return FindOne("id = ?", person_id); }

Result<Person> Accounts::FindByNationalId(std::string_view national_id) {
  return FindOne("national_id = ?", national_id);
}

Status Accounts::SetMobile(std::string_view person_id, std::string_view mobile) {
  TROAD_RETURN_IF_ERROR(ValidateMobile(mobile));
  TROAD_ASSIGN_OR_RETURN(
      int64_t n, db_.Execute("UPDATE persons SET mobile = ?, updated_at = ? WHERE id = ?",
                             {std::string(mobile), clock_.NowMillis(), std::string(person_id)}));
  if (n == 0) return Fail(ErrorCode::kNotFound, "no such person");
  return Ok();
}

Result<LinkedMethods> Accounts::Methods(std::string_view person_id) {
  std::string id(person_id);
  LinkedMethods m;
  TROAD_ASSIGN_OR_RETURN(Person p, Get(person_id));
  m.sms = !p.mobile.empty();
  TROAD_ASSIGN_OR_RETURN(
      auto totp,
      db_.Query("SELECT 1 FROM totp_credentials WHERE person = ? AND confirmed = 1", {id}));
  m.totp = !totp.empty();
  TROAD_ASSIGN_OR_RETURN(auto pk,
                         db_.Query("SELECT COUNT(*) FROM passkeys WHERE person = ?", {id}));
  TROAD_ASSIGN_OR_RETURN(int64_t npk, pk[0].Int(0));
  m.passkeys = static_cast<size_t>(npk);
  TROAD_ASSIGN_OR_RETURN(
      auto certs, db_.Query("SELECT COUNT(*) FROM citizen_certificates WHERE person = ?", {id}));
  TROAD_ASSIGN_OR_RETURN(int64_t ncert, certs[0].Int(0));
  m.certificates = static_cast<size_t>(ncert);
  return m;
}

Result<std::string> Accounts::BeginTotp(std::string_view person_id) {
  std::string id(person_id);
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT confirmed FROM totp_credentials "
                                              "WHERE person = ?",
                                              {id}));
  if (!rows.empty()) {
    TROAD_ASSIGN_OR_RETURN(int64_t confirmed, rows[0].Int(0));
    if (confirmed != 0) {
      return Fail(ErrorCode::kAlreadyExists,
                  "an authenticator app is already linked; remove it before adding another");
    }
  }
  std::string secret = NewTotpSecret();
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM totp_credentials WHERE person = ?", {id}));
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO totp_credentials (person, secret, last_used_step, confirmed, created_at) "
      "VALUES (?, ?, -1, 0, ?)",
      {id, store::Blob{secret}, clock_.NowMillis()}));
  return secret;
}

namespace {

Result<int64_t> CheckTotp(store::Database& db, const Clock& clock, const std::string& person,
                          std::string_view code, bool confirmed) {
  TROAD_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT secret, last_used_step FROM totp_credentials "
                                             "WHERE person = ? AND confirmed = ?",
                                             {person, int64_t{confirmed}}));
  if (rows.empty()) {
    return Fail(
        ErrorCode::kFailedPrecondition, "{}",
        confirmed ? "no authenticator app is linked" : "no authenticator app is being added");
  }
  TROAD_ASSIGN_OR_RETURN(std::string secret, rows[0].Bytes(0));
  TROAD_ASSIGN_OR_RETURN(int64_t last, rows[0].Int(1));
  TROAD_ASSIGN_OR_RETURN(int64_t step, VerifyTotp(secret, code, clock.NowMillis() / 1000, last,
                                                  TotpParameters{}, kTotpWindow));
  return step;
}

}  // namespace

Status Accounts::ConfirmTotp(std::string_view person_id, std::string_view code) {
  std::string id(person_id);
  TROAD_ASSIGN_OR_RETURN(int64_t step, CheckTotp(db_, clock_, id, code, false));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("UPDATE totp_credentials SET confirmed = 1, last_used_step = ? WHERE person = ?",
                  {step, id}));
  return Ok();
}

Status Accounts::VerifyTotp(std::string_view person_id, std::string_view code) {
  std::string id(person_id);
  TROAD_ASSIGN_OR_RETURN(int64_t step, CheckTotp(db_, clock_, id, code, true));
  // Conditional on the step still being older: two requests racing with one code
  // cannot both succeed.
  TROAD_ASSIGN_OR_RETURN(int64_t n, db_.Execute("UPDATE totp_credentials SET last_used_step = ? "
                                                "WHERE person = ? AND last_used_step < ?",
                                                {step, id, step}));
  if (n == 0) return Fail(ErrorCode::kAlreadyExists, "this code was already used");
  return Ok();
}

Status Accounts::RemoveTotp(std::string_view person_id) {
  TROAD_ASSIGN_OR_RETURN(int64_t n, db_.Execute("DELETE FROM totp_credentials WHERE person = ?",
                                                {std::string(person_id)}));
  if (n == 0) return Fail(ErrorCode::kNotFound, "no authenticator app is linked");
  return Ok();
}

Status Accounts::AddPasskey(std::string_view person_id, const Passkey& pk) {
  TROAD_RETURN_IF_ERROR(CheckText("passkey name", pk.label, 100, false, false));
  auto existing = db_.Query("SELECT 1 FROM passkeys WHERE id = ?", {pk.id});
  if (!existing) return Fail(existing.error());
  if (!existing->empty()) {
    return Fail(ErrorCode::kAlreadyExists, "this passkey is already registered");
  }
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO passkeys (id, person, public_key, algorithm, sign_count, aaguid, "
                  "attestation_format, label, created_at) VALUES (?, ?, ?, ?, ?, '', '', ?, ?)",
                  {pk.id, std::string(person_id), store::Blob{pk.public_key_der}, pk.algorithm,
                   pk.sign_count, pk.label, clock_.NowMillis()}));
  return Ok();
}

namespace {

constexpr std::string_view kPasskeyColumns =
    "id, public_key, algorithm, sign_count, label, created_at, last_used_at, person";

Result<Passkey> PasskeyFromRow(const store::Row& row) {
  Passkey pk;
  TROAD_ASSIGN_OR_RETURN(pk.id, row.Text(0));
  TROAD_ASSIGN_OR_RETURN(pk.public_key_der, row.Bytes(1));
  TROAD_ASSIGN_OR_RETURN(pk.algorithm, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(pk.sign_count, row.Int(3));
  TROAD_ASSIGN_OR_RETURN(pk.label, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(pk.created_at, row.Int(5));
  if (!row.IsNull(6)) {
    TROAD_ASSIGN_OR_RETURN(int64_t used, row.Int(6));
    pk.last_used_at = used;
  }
  return pk;
}

}  // namespace

Result<std::vector<Passkey>> Accounts::Passkeys(std::string_view person_id) {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query(fmt::format("SELECT {} FROM passkeys WHERE person = ? ORDER BY "
                                               "created_at",
                                               kPasskeyColumns),
                                   {std::string(person_id)}));
  std::vector<Passkey> out;
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(Passkey pk, PasskeyFromRow(row));
    out.push_back(std::move(pk));
  }
  return out;
}

Result<std::pair<std::string, Passkey>> Accounts::FindPasskey(std::string_view credential_id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows, db_.Query(fmt::format("SELECT {} FROM passkeys WHERE id = ?", kPasskeyColumns),
                           {std::string(credential_id)}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "this passkey is not registered here");
  TROAD_ASSIGN_OR_RETURN(Passkey pk, PasskeyFromRow(rows[0]));
  TROAD_ASSIGN_OR_RETURN(std::string person, rows[0].Text(7));
  return std::make_pair(std::move(person), std::move(pk));
}

Status Accounts::UpdatePasskeyCounter(std::string_view credential_id, int64_t sign_count) {
  TROAD_RETURN_IF_ERROR(
      db_.Execute("UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ?",
                  {sign_count, clock_.NowMillis(), std::string(credential_id)}));
  return Ok();
}

Status Accounts::RemovePasskey(std::string_view person_id, std::string_view credential_id) {
  TROAD_ASSIGN_OR_RETURN(int64_t n,
                         db_.Execute("DELETE FROM passkeys WHERE person = ? AND id = ?",
                                     {std::string(person_id), std::string(credential_id)}));
  if (n == 0) return Fail(ErrorCode::kNotFound, "no such passkey");
  return Ok();
}

Status Accounts::LinkCertificate(std::string_view person_id, std::string_view issuer,
                                 std::string_view card_id) {
  auto owner = PersonForCertificate(issuer, card_id);
  if (owner) {
    if (*owner == person_id) return Ok();
    return Fail(ErrorCode::kAlreadyExists, "this certificate is linked to another person");
  }
  TROAD_RETURN_IF_ERROR(db_.Execute(
      "INSERT INTO citizen_certificates (issuer, card_id, person, created_at) VALUES (?, ?, ?, ?)",
      {std::string(issuer), std::string(card_id), std::string(person_id), clock_.NowMillis()}));
  return Ok();
}

Result<std::string> Accounts::PersonForCertificate(std::string_view issuer,
                                                   std::string_view card_id) {
  TROAD_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT person FROM citizen_certificates "
                                              "WHERE issuer = ? AND card_id = ?",
                                              {std::string(issuer), std::string(card_id)}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "this certificate is not linked to anyone");
  return rows[0].Text(0);
}

}  // namespace troad::identity
