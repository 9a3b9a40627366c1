// The pages people see, rendered on the server in Traditional Chinese or English: the
// sign-in page (who you are, then one method at a time until the service's assurance
// is met), the account page (add and remove methods) and error pages.
//
// Accessibility (WCAG 2.1 AA): one <h1> per page, every field has a <label>, errors
// are announced (role="alert") and tied to their field (aria-describedby), the
// document language is set, text contrast is at least 7:1, focus is always visible,
// and the layout is one column that works from 320 px wide. No third-party scripts,
// fonts or styles: the one script (/static/idp.js, for passkeys and the card
// component) is ours, and the Content-Security-Policy (provider.cpp) allows only it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace troad::identity {

enum class Locale { kZhTw, kEn };

// The locale from, in order: `explicit_lang` ("en", "zh-TW"; a ?lang= or cookie),
// `ui_locales` (space-separated, from the authorization request), Accept-Language.
// Traditional Chinese unless English is preferred.
Locale ChooseLocale(std::string_view explicit_lang, std::string_view ui_locales,
                    std::string_view accept_language);
std::string_view LocaleTag(Locale locale);  // "zh-TW", "en"

// The Traditional Chinese or the English of a message written where it is used.
inline std::string Localize(Locale locale, const char* zh, const char* en) {
  return locale == Locale::kEn ? en : zh;
}

// A message shown above the form: an error (role="alert") or a notice.
struct Notice {
  bool error = false;
  std::string text;
};

struct SignInModel {
  Locale locale = Locale::kZhTw;
  std::string csrf;
  std::string request_id;
  std::string client_name;
  std::string national_id;        // entered so far; empty: ask for it first
  std::vector<std::string> done;  // localized names of methods completed in this session
  std::string requirement;        // localized: what the service still needs
  bool sms_sent = false;
  bool certificate = false;
  bool dual_document = false;
  std::string certificate_challenge;  // for the card component
  std::string card_component_url;
  std::vector<Notice> notices;
};

struct AccountModel {
  Locale locale = Locale::kZhTw;
  std::string csrf;
  std::string name;
  std::string masked_national_id;  // "A12****789"
  std::string masked_mobile;
  bool totp = false;
  bool can_remove = false;  // two methods verified within the last 10 minutes
  struct PasskeyRow {
    std::string id;
    std::string label;
    std::string created;
  };
  std::vector<PasskeyRow> passkeys;
  size_t certificates = 0;
  std::string totp_enrol_svg;  // non-empty while enrolling: the QR code
  std::string totp_enrol_secret_base32;
  std::vector<Notice> notices;
};

std::string RenderSignIn(const SignInModel& model);
std::string RenderAccount(const AccountModel& model);
// A page that only explains a refusal (an untrusted redirect, an expired request).
std::string RenderError(Locale locale, std::string_view title, std::string_view message);

// The localized name of a method ("sms" → "簡訊驗證碼" / "SMS code").
std::string MethodLabel(Locale locale, std::string_view method);
// What an acr value asks for, said for a person.
std::string AcrLabel(Locale locale, std::string_view acr);

// Static assets: the page script (/static/idp.js) and style sheet (/static/idp.css).
std::string_view IdpScript();
std::string_view IdpStylesheet();

}  // namespace troad::identity
