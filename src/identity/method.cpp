#include "identity/method.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "identity/citizen_cert.h"
#include "identity/dual_document.h"
#include "identity/ocsp.h"
#include "identity/sms.h"

namespace troad::identity {
namespace {

std::string L(Locale locale, const char* zh, const char* en) { return Localize(locale, zh, en); }

std::string CodeHash(std::string_view session, std::string_view code) {
  return crypto::Sha256Hex(fmt::format("{}:{}", session, code));
}

class TotpMethod final : public VerificationMethod {
 public:
  explicit TotpMethod(Accounts& accounts) : accounts_(accounts) {}
  Method method() const override { return Method::kTotp; }

  Verdict Verify(const Attempt& a) override {
    const Locale l = a.locale;
    std::string wrong = L(l, "驗證碼不正確，或此身分尚未設定驗證器 App。",
                          "The code is not right, or no authenticator app is set up for this ID.");
    if (!a.person) return Verdict::Refused("no such national id", wrong, true);
    auto st = accounts_.VerifyTotp(a.person->id, a.input->Value("code"));
    if (st) return Verdict::Verified(a.person->id, a.person->national_id);
    switch (st.error().code()) {
      case ErrorCode::kInvalidArgument:
        return Verdict::Refused(
            st.error().message(),
            L(l, "請輸入 App 顯示的 6 位數字。", "Enter the 6 digits the app shows."), false);
      case ErrorCode::kAlreadyExists:
        return Verdict::Refused("TOTP code reused",
                                L(l, "此驗證碼已使用過，請等待下一組驗證碼。",
                                  "This code was already used. Wait for the next one."),
                                true);
      case ErrorCode::kFailedPrecondition:
      case ErrorCode::kUnauthenticated:
        return Verdict::Refused(st.error().message(), wrong, true);
      default:
        return Verdict::Internal(st.error().message());
    }
  }

 private:
  Accounts& accounts_;
};

class PasskeyMethod final : public VerificationMethod {
 public:
  PasskeyMethod(Accounts& accounts, webauthn::RelyingParty rp)
      : accounts_(accounts), rp_(std::move(rp)) {}
  Method method() const override { return Method::kPasskey; }
  std::string_view challenge_kind() const override { return "passkey-get"; }
  std::string NewChallenge() const override { return Base64UrlEncode(webauthn::NewChallenge()); }

  Verdict Verify(const Attempt& a) override {
    const Locale l = a.locale;
    auto challenge = Base64UrlDecode(a.challenge);
    if (!challenge || challenge->empty()) {
      return Verdict::Refused("no live passkey challenge",
                              L(l, "操作逾時，請再試一次。", "This took too long. Try again."),
                              false);
    }
    const http::Form& in = *a.input;
    auto found = accounts_.FindPasskey(in.Value("id"));
    if (!found) {
      return Verdict::Refused(
          "unknown passkey",
          L(l, "此通行密鑰未在本中心登記。", "This passkey is not registered here."), true);
    }
    auto& [owner_id, stored] = *found;
    auto owner = accounts_.Get(owner_id);
    if (!owner) return Verdict::Internal(owner.error().message());
    if (!a.claimed_national_id.empty() && owner->national_id != a.claimed_national_id) {
      return Verdict::Refused("the passkey belongs to another person",
                              L(l, "此通行密鑰不屬於您輸入的身分證統一編號。",
                                "This passkey does not belong to the ID number you entered."),
                              true)
          .About(owner_id);
    }
    webauthn::StoredCredential credential{stored.public_key_der, stored.algorithm,
                                          static_cast<uint32_t>(stored.sign_count)};
    auto assertion = webauthn::VerifyAssertion(
        rp_, {in.Value("clientDataJSON"), in.Value("authenticatorData"), in.Value("signature")},
        *challenge, true, credential);
    if (!assertion) {
      const auto& e = assertion.error();
      std::string text =
          e.code() == ErrorCode::kFailedPrecondition
              ? L(l, "此通行密鑰可能遭複製，已拒絕登入。請改用其他方式並移除此通行密鑰。",
                  "This passkey may have been copied, so it was refused. Use another "
                  "way and remove this passkey.")
              : L(l, "通行密鑰驗證失敗：", "The passkey was not accepted: ") + e.message();
      return Verdict::Refused(e.message(), std::move(text), true).About(owner_id);
    }
    if (auto st = accounts_.UpdatePasskeyCounter(stored.id, assertion->sign_count); !st) {
      return Verdict::Internal(st.error().message());
    }
    return Verdict::Verified(owner_id, owner->national_id);
  }

 private:
  Accounts& accounts_;
  webauthn::RelyingParty rp_;
};

// A CRL past its nextUpdate or no trustworthy OCSP answer: not the citizen's fault.
std::string RevocationUnknown(Locale l) {
  return L(l, "暫時無法確認憑證是否已廢止，請稍後再試或改用其他方式。",
           "We cannot check revocation right now. Try later or use another way.");
}

class CitizenCertificateMethod final : public VerificationMethod {
 public:
  CitizenCertificateMethod(Accounts& accounts, const CitizenCertVerifier& verifier,
                           const Clock& clock, std::optional<OcspOptions> ocsp)
      : accounts_(accounts), verifier_(verifier), clock_(clock), ocsp_(std::move(ocsp)) {}
  Method method() const override { return Method::kCitizenCertificate; }
  std::string_view challenge_kind() const override { return "certificate"; }
  std::string NewChallenge() const override { return NewCitizenChallenge(); }

  Verdict Verify(const Attempt& a) override {
    const Locale l = a.locale;
    std::string person_id = a.person ? a.person->id : "";
    if (a.challenge.empty()) {
      return Verdict::Refused("no live certificate challenge",
                              L(l, "挑戰碼已逾時，請以新的挑戰碼重新簽署。",
                                "The challenge has expired. Sign the new one."),
                              false)
          .About(person_id);
    }
    auto cert = verifier_.Verify(a.input->Value("signature"), a.challenge, clock_.Now());
    if (!cert) {
      const auto& e = cert.error();
      std::string text;
      if (e.code() == ErrorCode::kInvalidArgument) {
        text = L(l, "無法讀取簽章，請以憑證元件重新簽署。",
                 "The signature could not be read. Sign again with the card component.");
      } else if (e.code() == ErrorCode::kFailedPrecondition) {
        text = RevocationUnknown(l);
      } else {
        text = L(l, "憑證驗證失敗：", "The certificate was not accepted: ") + e.message();
      }
      return Verdict::Refused(e.message(), std::move(text), e.code() == ErrorCode::kUnauthenticated)
          .About(person_id);
    }
    if (ocsp_) {
      // The CA's OCSP responder, asked away from the database thread (a Lookup); the
      // answer counts for this certificate only.
      std::string key = "ocsp\n" + crypto::Sha256Hex(cert->certificate_der);
      if (a.answer == nullptr || a.answer->key != key) {
        const Clock* clock = &clock_;
        return Verdict::Ask(
            {key,
             [options = *ocsp_, certificate = cert->certificate_der,
              issuer = cert->issuer_certificate_der, clock]() -> Result<nlohmann::json> {
               TROAD_ASSIGN_OR_RETURN(OcspAnswer answer,
                                      QueryOcsp(certificate, issuer, options, clock->Now()));
               return nlohmann::json{{"good", answer.status == OcspStatus::kGood},
                                     {"revoked", answer.status == OcspStatus::kRevoked},
                                     {"detail", answer.detail}};
             }});
      }
      const auto& answer = a.answer->result;
      if (!answer) {
        // No trustworthy answer: not the citizen's fault, and not a pass either.
        return Verdict::Unavailable("OCSP: " + answer.error().message(), RevocationUnknown(l))
            .About(person_id);
      }
      if (!answer->value("good", false)) {
        bool revoked = answer->value("revoked", false);
        std::string detail = answer->value("detail", "");
        return Verdict::Refused(
                   revoked ? "the certificate was revoked (OCSP): " + detail
                           : "the OCSP responder does not know the certificate: " + detail,
                   L(l, "憑證驗證失敗：", "The certificate was not accepted: ") +
                       (revoked ? L(l, "憑證已廢止。", "it has been revoked.")
                                : L(l, "核發機關查無此憑證。", "its CA does not know it.")),
                   true)
            .About(person_id);
      }
    }
    auto owner = accounts_.PersonForCertificate(cert->issuer, cert->card_id);
    if (!owner && owner.error().code() != ErrorCode::kNotFound) {
      return Verdict::Internal(owner.error().message());
    }
    if (owner && *owner != person_id) {
      return Verdict::Refused("the certificate belongs to another person",
                              L(l, "此憑證不屬於您輸入的身分證統一編號。",
                                "This certificate does not belong to the ID number you entered."),
                              true)
          .About(person_id);
    }
    Verdict verdict = Verdict::Verified(person_id, a.claimed_national_id);
    if (!owner) {
      // The first use of a certificate links it, but only to someone who has just proved
      // who they are another way in this sign-in: a valid certificate alone says nothing
      // about which national id it belongs to (MOICA subjects carry only its last four
      // digits).
      if (person_id.empty() || !a.proved_in_session) {
        return Verdict::Refused("certificate not linked to an account yet",
                                L(l, "此憑證尚未連結帳號：請先以其他方式驗證，即可連結。",
                                  "This certificate is not linked yet. Verify another way first, "
                                  "then it will be linked."),
                                false)
            .About(person_id);
      }
      if (auto st = accounts_.LinkCertificate(person_id, cert->issuer, cert->card_id); !st) {
        return Verdict::Internal(st.error().message());
      }
      verdict.account_changes.push_back("citizen certificate linked: serial " + cert->serial_hex);
    }
    return verdict;
  }

 private:
  Accounts& accounts_;
  const CitizenCertVerifier& verifier_;
  const Clock& clock_;
  std::optional<OcspOptions> ocsp_;
};

class DualDocumentMethod final : public VerificationMethod {
 public:
  DualDocumentMethod(Accounts& accounts, DualDocumentChecker& checker)
      : accounts_(accounts), checker_(checker) {}
  Method method() const override { return Method::kDualDocument; }

  Verdict Verify(const Attempt& a) override {
    const Locale l = a.locale;
    std::string person_id = a.person ? a.person->id : "";
    std::string card = a.input->Value("health_card");
    std::string household = a.input->Value("household_id");
    card.erase(std::remove(card.begin(), card.end(), ' '), card.end());
    for (char& c : household) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (auto st = ValidateHealthCardNumber(card); !st) {
      return Verdict::Refused(st.error().message(),
                              L(l, "健保卡卡號為 12 位數字（卡片正面）。",
                                "The health card number is the 12 digits on the front of the "
                                "card."),
                              false)
          .About(person_id);
    }
    if (auto st = ValidateHouseholdNumber(household); !st) {
      return Verdict::Refused(st.error().message(),
                              L(l, "戶號為戶口名簿上的英文字母與數字。",
                                "The household number is the letters and digits in the "
                                "household register."),
                              false)
          .About(person_id);
    }
    // The registries are asked away from the database thread; the key binds the answer
    // to exactly these numbers for exactly this national id.
    std::string key = fmt::format("{}\n{}\n{}", a.claimed_national_id, card, household);
    if (a.answer == nullptr || a.answer->key != key) {
      DualDocumentChecker* checker = &checker_;
      return Verdict::Ask(
          {key, [checker, id = a.claimed_national_id, card, household]() -> Result<nlohmann::json> {
             TROAD_ASSIGN_OR_RETURN(RegistryPerson p, checker->Check(id, card, household));
             return nlohmann::json{{"national_id", p.national_id}, {"name", p.name}};
           }});
    }
    const auto& found = a.answer->result;
    if (!found) {
      const auto& e = found.error();
      if (e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kDataLoss) {
        return Verdict::Unavailable(
                   e.message(), L(l, "暫時無法向戶政與健保資料核對，請稍後再試或改用其他方式。",
                                  "The registries cannot be reached right now. Try later or use "
                                  "another way."))
            .About(person_id);
      }
      return Verdict::Refused(e.message(),
                              L(l, "資料與戶政、健保紀錄不符。",
                                "The numbers do not match the registry records."),
                              true)
          .About(person_id);
    }
    Verdict verdict = Verdict::Verified(person_id, a.claimed_national_id);
    if (person_id.empty()) {
      // The first sign-in of someone the registries know: their account starts here.
      auto added = accounts_.AddPerson(a.claimed_national_id, found->value("name", ""), "");
      if (!added) return Verdict::Internal(added.error().message());
      verdict.person_id = added->id;
      verdict.account_changes.push_back("account created from the household registry");
    }
    return verdict;
  }

 private:
  Accounts& accounts_;
  DualDocumentChecker& checker_;
};

}  // namespace

Verdict Verdict::Verified(std::string person_id, std::string national_id) {
  Verdict v;
  v.kind = Kind::kVerified;
  v.person_id = std::move(person_id);
  v.national_id = std::move(national_id);
  return v;
}

Verdict Verdict::Refused(std::string reason, std::string message, bool counts) {
  Verdict v;
  v.kind = Kind::kRefused;
  v.reason = std::move(reason);
  v.message = std::move(message);
  v.counts = counts;
  return v;
}

Verdict Verdict::Unavailable(std::string reason, std::string message) {
  Verdict v = Refused(std::move(reason), std::move(message), false);
  v.kind = Kind::kUnavailable;
  return v;
}

Verdict Verdict::Internal(std::string reason) {
  Verdict v;
  v.kind = Kind::kInternal;
  v.reason = std::move(reason);
  return v;
}

Verdict Verdict::Ask(Lookup lookup) {
  Verdict v;
  v.kind = Kind::kLookup;
  v.lookup = std::move(lookup);
  return v;
}

// ---------------------------------------------------------------------------------
// SMS

Status SmsMethod::Send(const Attempt& a) {
  if (!a.person) return Fail(ErrorCode::kNotFound, "no such national id");
  if (a.person->mobile.empty()) return Fail(ErrorCode::kNotFound, "no mobile number registered");
  std::string r = crypto::RandomBytes(4);
  uint32_t v = 0;
  for (unsigned char c : r) v = (v << 8) | c;
  std::string code = fmt::format("{:06}", v % 1'000'000);
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(db_.Execute("DELETE FROM sms_codes WHERE session = ?", {a.session}));
  TROAD_RETURN_IF_ERROR(
      db_.Execute("INSERT INTO sms_codes (session, person, code_hash, attempts, created_at, "
                  "expires_at) VALUES (?, ?, ?, 0, ?, ?)",
                  {a.session, a.person->id, CodeHash(a.session, code), now,
                   now + options_.code_lifetime.count() * 1000}));
  if (auto st = sender_.Send(
          a.person->mobile,
          fmt::format("【troad】登入驗證碼 {} ，5 分鐘內有效，請勿提供給任何人。Sign-in code: {}",
                      code, code));
      !st) {
    return Fail(ErrorCode::kUnavailable, "{}", st.error().message());
  }
  return Ok();
}

Verdict SmsMethod::Verify(const Attempt& a) {
  const Locale l = a.locale;
  std::string code = a.input->Value("code");
  auto rows =
      db_.Query("SELECT person, code_hash, attempts, expires_at FROM sms_codes WHERE session = ?",
                {a.session});
  if (!rows) return Verdict::Internal(rows.error().message());
  std::string person_id = a.person ? a.person->id : "";
  std::string wrong = L(l, "驗證碼不正確。", "The code is not right.");
  auto refuse = [&](std::string reason, std::string text, bool counts, bool keep_prompt) {
    Verdict v = Verdict::Refused(std::move(reason), std::move(text), counts).About(person_id);
    v.keep_prompt = keep_prompt;
    return v;
  };
  auto forget = [&] { (void)db_.Execute("DELETE FROM sms_codes WHERE session = ?", {a.session}); };
  if (rows->empty() || !a.person) {
    return refuse("no SMS code was sent in this session", wrong, true, true);
  }
  const auto& row = (*rows)[0];
  auto owner = row.Text(0);
  auto hash = row.Text(1);
  auto attempts = row.Int(2);
  auto expires = row.Int(3);
  if (!owner || !hash || !attempts || !expires) {
    return Verdict::Internal("sms_codes row is malformed");
  }
  if (*owner != a.person->id) {
    return refuse("the SMS code was sent for another person", wrong, true, false);
  }
  if (*expires <= clock_.NowMillis()) {
    forget();
    return refuse("SMS code expired",
                  L(l, "驗證碼已逾時，請重新寄送。", "The code has expired. Send a new one."),
                  false, false);
  }
  if (*attempts >= options_.max_attempts) {
    forget();
    return refuse("too many wrong SMS codes",
                  L(l, "錯誤次數過多，請重新寄送驗證碼。", "Too many wrong codes. Send a new one."),
                  false, false);
  }
  if (code.size() != 6 || !std::all_of(code.begin(), code.end(), ::isdigit)) {
    return refuse("malformed SMS code",
                  L(l, "請輸入簡訊中的 6 位數字。", "Enter the 6 digits from the text message."),
                  false, true);
  }
  if (!crypto::ConstantTimeEqual(CodeHash(a.session, code), *hash)) {
    (void)db_.Execute("UPDATE sms_codes SET attempts = attempts + 1 WHERE session = ?",
                      {a.session});
    return refuse("wrong SMS code", wrong, true, true);
  }
  forget();
  return Verdict::Verified(a.person->id, a.person->national_id);
}

// ---------------------------------------------------------------------------------

std::unique_ptr<VerificationMethod> MakeTotpMethod(Accounts& accounts) {
  return std::make_unique<TotpMethod>(accounts);
}

std::unique_ptr<VerificationMethod> MakePasskeyMethod(Accounts& accounts,
                                                      webauthn::RelyingParty rp) {
  return std::make_unique<PasskeyMethod>(accounts, std::move(rp));
}

std::unique_ptr<VerificationMethod> MakeCitizenCertificateMethod(
    Accounts& accounts, const CitizenCertVerifier& verifier, const Clock& clock,
    std::optional<OcspOptions> ocsp) {
  return std::make_unique<CitizenCertificateMethod>(accounts, verifier, clock, std::move(ocsp));
}

std::unique_ptr<VerificationMethod> MakeDualDocumentMethod(Accounts& accounts,
                                                           DualDocumentChecker& checker) {
  return std::make_unique<DualDocumentMethod>(accounts, checker);
}

}  // namespace troad::identity
