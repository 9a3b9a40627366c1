#include "identity/pages.h"

#include <fmt/format.h>

#include <optional>

#include "core/encoding.h"

namespace troad::identity {
namespace {

struct Text {
  const char* zh;
  const char* en;
};

const char* T(Locale l, const Text& t) { return l == Locale::kEn ? t.en : t.zh; }

std::string E(std::string_view text) { return XmlEscape(text); }

constexpr Text kSiteName{"多元身分驗證中心", "Identity Verification Centre"};
constexpr Text kSignInTitle{"登入", "Sign in"};
constexpr Text kSignInTo{"登入以繼續使用「{}」", "Sign in to continue to \u201c{}\u201d"};
constexpr Text kNationalId{"身分證統一編號", "National ID number"};
constexpr Text kNationalIdHint{"例如 A123456789", "For example A123456789"};
constexpr Text kContinue{"繼續", "Continue"};
constexpr Text kNotYou{"使用其他身分證統一編號", "Use another ID number"};
constexpr Text kChooseMethod{"選擇驗證方式", "Choose a way to verify"};
constexpr Text kDone{"已完成：", "Done: "};
constexpr Text kTotpCode{"驗證器 App 的 6 位數驗證碼", "6-digit code from your authenticator app"};
constexpr Text kVerify{"驗證", "Verify"};
constexpr Text kSmsSend{"寄送簡訊驗證碼到已登記的手機", "Text a code to my registered mobile"};
constexpr Text kSmsCode{"簡訊中的 6 位數驗證碼", "6-digit code from the text message"};
constexpr Text kSmsResend{"重新寄送", "Send a new code"};
constexpr Text kPasskeyButton{"使用通行密鑰（Passkey）驗證", "Verify with a passkey"};
constexpr Text kPasskeyNoSupport{"此瀏覽器不支援通行密鑰。",
                                 "This browser does not support passkeys."};
constexpr Text kCertificate{"自然人憑證", "Citizen certificate"};
constexpr Text kCertificateHelp{
    "插入讀卡機與自然人憑證後按下按鈕，由憑證元件簽署下列挑戰碼；或貼上元件產生的簽章。",
    "Insert your card and press the button: the card component signs the challenge below. Or "
    "paste the signature the component made."};
constexpr Text kCertificateSign{"以自然人憑證簽署", "Sign with my card"};
constexpr Text kCertificateSignature{"簽章（Base64）", "Signature (Base64)"};
constexpr Text kCancel{"取消並返回服務", "Cancel and go back to the service"};
constexpr Text kLanguage{"English", "中文"};
constexpr Text kAccountTitle{"我的帳號", "My account"};
constexpr Text kMethodsTitle{"驗證方式", "Ways to verify"};
constexpr Text kTotpLinked{"驗證器 App：已設定", "Authenticator app: set up"};
constexpr Text kTotpNone{"驗證器 App：未設定", "Authenticator app: not set up"};
constexpr Text kTotpAdd{"設定驗證器 App", "Set up an authenticator app"};
constexpr Text kTotpScan{"以驗證器 App 掃描 QR 碼，或輸入金鑰：",
                         "Scan the QR code with your authenticator app, or enter the key:"};
constexpr Text kTotpConfirm{"輸入 App 顯示的驗證碼以完成設定",
                            "Enter the code the app shows to finish"};
constexpr Text kRemove{"移除", "Remove"};
constexpr Text kRemoveNeedsTwo{"移除驗證方式前，需在 10 分鐘內以兩種不同方式驗證。",
                               "To remove a way to verify, verify with two different ways "
                               "within 10 minutes first."};
constexpr Text kPasskeys{"通行密鑰", "Passkeys"};
constexpr Text kPasskeyAdd{"新增通行密鑰", "Add a passkey"};
constexpr Text kPasskeyName{"通行密鑰名稱", "Passkey name"};
constexpr Text kNoPasskeys{"尚未新增通行密鑰。", "No passkeys yet."};
constexpr Text kMobile{"已登記手機：", "Registered mobile: "};
constexpr Text kCertificates{"已連結的自然人憑證：", "Linked citizen certificates: "};
constexpr Text kSignOut{"登出", "Sign out"};

std::string Page(Locale l, std::string_view title, std::string_view body,
                 std::string_view lang_switch_target) {
  std::string other = l == Locale::kEn ? "zh-TW" : "en";
  std::string sep = lang_switch_target.find('?') == std::string_view::npos ? "?" : "&";
  return fmt::format(
      R"(<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
<link rel="stylesheet" href="/static/idp.css">
<script src="/static/idp.js" defer></script>
</head>
<body>
<header><span>{site}</span><a href="{switch}{sep}lang={other}" lang="{other}">{other_label}</a></header>
<main id="main">
{body}
</main>
</body>
</html>
)",
      fmt::arg("lang", LocaleTag(l)), fmt::arg("title", E(title)),
      fmt::arg("site", T(l, kSiteName)), fmt::arg("switch", E(lang_switch_target)),
      fmt::arg("sep", sep), fmt::arg("other", other), fmt::arg("other_label", T(l, kLanguage)),
      fmt::arg("body", body));
}

std::string Notices(const std::vector<Notice>& notices, std::string_view id_prefix) {
  std::string out;
  for (size_t i = 0; i < notices.size(); ++i) {
    const auto& n = notices[i];
    out += fmt::format(R"(<div id="{}{}" class="{}" role="{}">{}</div>
)",
                       id_prefix, i, n.error ? "alert" : "notice", n.error ? "alert" : "status",
                       E(n.text));
  }
  return out;
}

std::string Hidden(std::string_view csrf, std::string_view request_id) {
  std::string out = fmt::format(R"(<input type="hidden" name="csrf" value="{}">)", E(csrf));
  if (!request_id.empty()) {
    out += fmt::format(R"(<input type="hidden" name="r" value="{}">)", E(request_id));
  }
  return out;
}

}  // namespace

Locale ChooseLocale(std::string_view explicit_lang, std::string_view ui_locales,
                    std::string_view accept_language) {
  auto english_first = [](std::string_view list) -> std::optional<bool> {
    // The first tag that is Chinese or English decides.
    size_t i = 0;
    while (i < list.size()) {
      size_t j = list.find_first_of(" ,", i);
      if (j == std::string_view::npos) j = list.size();
      std::string_view tag = list.substr(i, j - i);
      tag = tag.substr(0, tag.find(';'));
      if (tag.starts_with("en")) return true;
      if (tag.starts_with("zh")) return false;
      i = j + 1;
    }
    return std::nullopt;
  };
  for (std::string_view source : {explicit_lang, ui_locales, accept_language}) {
    if (auto en = english_first(source)) return *en ? Locale::kEn : Locale::kZhTw;
  }
  return Locale::kZhTw;
}

std::string_view LocaleTag(Locale locale) { return locale == Locale::kEn ? "en" : "zh-TW"; }

std::string MethodLabel(Locale l, std::string_view method) {
  if (method == "sms") return T(l, {"簡訊驗證碼", "SMS code"});
  if (method == "totp") return T(l, {"驗證器 App", "authenticator app"});
  if (method == "passkey") return T(l, {"通行密鑰", "passkey"});
  if (method == "citizen_certificate") return T(l, kCertificate);
  if (method == "dual_document") return T(l, {"雙證件", "two documents"});
  return std::string(method);
}

std::string AcrLabel(Locale l, std::string_view acr) {
  if (acr == "urn:troad:mfa") {
    return T(
        l, {"此服務需要兩種不同的驗證方式。", "This service needs two different ways to verify."});
  }
  if (acr == "urn:troad:loa:3") {
    return T(l, {"此服務需要通行密鑰或自然人憑證。",
                 "This service needs a passkey or a citizen certificate."});
  }
  if (acr == "urn:troad:loa:2") {
    return T(l, {"此服務需要驗證器 App、通行密鑰或自然人憑證。",
                 "This service needs an authenticator app, a passkey or a citizen certificate."});
  }
  return "";
}

std::string RenderSignIn(const SignInModel& m) {
  Locale l = m.locale;
  std::string body = fmt::format("<h1>{}</h1>\n<p>{}</p>\n", T(l, kSignInTitle),
                                 E(fmt::format(fmt::runtime(T(l, kSignInTo)), m.client_name)));
  body += Notices(m.notices, "notice-");
  if (m.national_id.empty()) {
    body += fmt::format(
        R"(<form method="post" action="/signin/identify" novalidate>
{hidden}
<label for="national_id">{label}</label>
<p class="hint" id="national_id_hint">{hint}</p>
<input type="text" id="national_id" name="national_id" autocomplete="username" autocapitalize="characters"
  inputmode="text" maxlength="10" required aria-describedby="national_id_hint{err}" autofocus>
<button type="submit">{cont}</button>
</form>
)",
        fmt::arg("hidden", Hidden(m.csrf, m.request_id)), fmt::arg("label", T(l, kNationalId)),
        fmt::arg("hint", T(l, kNationalIdHint)),
        fmt::arg("err", m.notices.empty() ? "" : " notice-0"), fmt::arg("cont", T(l, kContinue)));
  } else {
    body += fmt::format(R"(<p>{}: <strong class="mono">{}</strong></p>
<form method="post" action="/signin/identify">{}<input type="hidden" name="national_id" value=""><button type="submit" class="secondary">{}</button></form>
)",
                        T(l, kNationalId), E(m.national_id), Hidden(m.csrf, m.request_id),
                        T(l, kNotYou));
    if (!m.done.empty()) {
      std::string done;
      for (const auto& d : m.done) done += (done.empty() ? "" : "、") + E(d);
      body += fmt::format(R"(<p class="notice" role="status">{}{}</p>
)",
                          T(l, kDone), done);
    }
    if (!m.requirement.empty()) body += fmt::format("<p>{}</p>\n", E(m.requirement));
    body += fmt::format("<h2>{}</h2>\n", T(l, kChooseMethod));
    body += fmt::format(
        R"(<fieldset><legend>{legend}</legend>
<button type="button" id="passkey-signin" data-r="{r}" data-csrf="{csrf}">{button}</button>
<p class="hint" id="passkey-status" role="status" data-unsupported="{nosupport}"></p>
</fieldset>
)",
        fmt::arg("legend", MethodLabel(l, "passkey")), fmt::arg("r", E(m.request_id)),
        fmt::arg("csrf", E(m.csrf)), fmt::arg("button", T(l, kPasskeyButton)),
        fmt::arg("nosupport", T(l, kPasskeyNoSupport)));
    body += fmt::format(
        R"(<fieldset><legend>{legend}</legend>
<form method="post" action="/signin/totp" novalidate>
{hidden}
<label for="totp_code">{label}</label>
<input type="text" id="totp_code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="8">
<button type="submit">{verify}</button>
</form>
</fieldset>
)",
        fmt::arg("legend", MethodLabel(l, "totp")),
        fmt::arg("hidden", Hidden(m.csrf, m.request_id)), fmt::arg("label", T(l, kTotpCode)),
        fmt::arg("verify", T(l, kVerify)));
    body += fmt::format(R"(<fieldset><legend>{legend}</legend>
<form method="post" action="/signin/sms/send">{hidden}<button type="submit" class="{cls}">{send}</button></form>
)",
                        fmt::arg("legend", MethodLabel(l, "sms")),
                        fmt::arg("hidden", Hidden(m.csrf, m.request_id)),
                        fmt::arg("cls", m.sms_sent ? "secondary" : ""),
                        fmt::arg("send", T(l, m.sms_sent ? kSmsResend : kSmsSend)));
    if (m.sms_sent) {
      body += fmt::format(
          R"(<form method="post" action="/signin/sms/verify" novalidate>
{hidden}
<label for="sms_code">{label}</label>
<input type="text" id="sms_code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6">
<button type="submit">{verify}</button>
</form>
)",
          fmt::arg("hidden", Hidden(m.csrf, m.request_id)), fmt::arg("label", T(l, kSmsCode)),
          fmt::arg("verify", T(l, kVerify)));
    }
    body += "</fieldset>\n";
    if (m.dual_document) {
      body += fmt::format(
          R"(<fieldset><legend>{legend}</legend>
<form method="post" action="/signin/dual-document" novalidate>
{hidden}
<label for="health_card">{card}</label>
<p class="hint" id="health_card_hint">{card_hint}</p>
<input type="text" id="health_card" name="health_card" inputmode="numeric" maxlength="14" autocomplete="off" aria-describedby="health_card_hint">
<label for="household_id">{household}</label>
<p class="hint" id="household_id_hint">{household_hint}</p>
<input type="text" id="household_id" name="household_id" maxlength="16" autocomplete="off" autocapitalize="characters" aria-describedby="household_id_hint">
<button type="submit">{verify}</button>
</form>
</fieldset>
)",
          fmt::arg("legend", MethodLabel(l, "dual_document")),
          fmt::arg("hidden", Hidden(m.csrf, m.request_id)),
          fmt::arg("card", T(l, {"健保卡卡號", "Health insurance card number"})),
          fmt::arg("card_hint",
                   T(l, {"卡片正面的 12 位數字", "The 12 digits on the front of the card"})),
          fmt::arg("household", T(l, {"戶號", "Household registration number"})),
          fmt::arg("household_hint", T(l, {"戶口名簿上的戶號，例如 H0000001",
                                           "From the household register, for example H0000001"})),
          fmt::arg("verify", T(l, kVerify)));
    }
    if (m.certificate) {
      body += fmt::format(
          R"(<fieldset><legend>{legend}</legend>
<p class="hint">{help}</p>
<p class="mono" id="certificate-challenge">{challenge}</p>
<form method="post" action="/signin/certificate" novalidate>
{hidden}
<button type="button" id="certificate-sign" data-component="{component}">{sign}</button>
<label for="certificate_signature">{label}</label>
<textarea id="certificate_signature" name="signature" spellcheck="false"></textarea>
<button type="submit">{verify}</button>
</form>
</fieldset>
)",
          fmt::arg("legend", T(l, kCertificate)), fmt::arg("help", T(l, kCertificateHelp)),
          fmt::arg("challenge", E(m.certificate_challenge)),
          fmt::arg("hidden", Hidden(m.csrf, m.request_id)),
          fmt::arg("component", E(m.card_component_url)), fmt::arg("sign", T(l, kCertificateSign)),
          fmt::arg("label", T(l, kCertificateSignature)), fmt::arg("verify", T(l, kVerify)));
    }
  }
  body += fmt::format(
      R"(<form method="post" action="/signin/cancel">{}<button type="submit" class="secondary">{}</button></form>
)",
      Hidden(m.csrf, m.request_id), T(l, kCancel));
  return Page(l, T(l, kSignInTitle), body, "/signin?r=" + PercentEncode(m.request_id));
}

std::string RenderAccount(const AccountModel& m) {
  Locale l = m.locale;
  std::string body = fmt::format("<h1>{}</h1>\n<p>{} · <span class=\"mono\">{}</span></p>\n",
                                 T(l, kAccountTitle), E(m.name), E(m.masked_national_id));
  body += Notices(m.notices, "notice-");
  body += fmt::format("<h2>{}</h2>\n<p>{}<span class=\"mono\">{}</span></p>\n", T(l, kMethodsTitle),
                      T(l, kMobile), E(m.masked_mobile));
  std::string hidden = Hidden(m.csrf, "");
  if (!m.can_remove) body += fmt::format("<p class=\"hint\">{}</p>\n", T(l, kRemoveNeedsTwo));
  // Authenticator app.
  body += fmt::format("<fieldset><legend>{}</legend>\n", MethodLabel(l, "totp"));
  if (!m.totp_enrol_svg.empty()) {
    body += fmt::format(
        R"(<p>{scan}</p>
<div class="qr" role="img" aria-label="QR code">{svg}</div>
<p class="mono" id="totp-secret">{secret}</p>
<form method="post" action="/account/totp/confirm" novalidate>
{hidden}
<label for="totp_confirm">{confirm}</label>
<input type="text" id="totp_confirm" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8">
<button type="submit">{verify}</button>
</form>
)",
        fmt::arg("scan", T(l, kTotpScan)), fmt::arg("svg", m.totp_enrol_svg),
        fmt::arg("secret", E(m.totp_enrol_secret_base32)), fmt::arg("hidden", hidden),
        fmt::arg("confirm", T(l, kTotpConfirm)), fmt::arg("verify", T(l, kVerify)));
  } else if (m.totp) {
    body += fmt::format("<p>{}</p>\n", T(l, kTotpLinked));
    if (m.can_remove) {
      body += fmt::format(
          R"(<form method="post" action="/account/totp/remove">{}<button type="submit" class="secondary">{}</button></form>
)",
          hidden, T(l, kRemove));
    }
  } else {
    body += fmt::format(R"(<p>{}</p>
<form method="post" action="/account/totp/begin">{}<button type="submit">{}</button></form>
)",
                        T(l, kTotpNone), hidden, T(l, kTotpAdd));
  }
  body += "</fieldset>\n";
  // Passkeys.
  body += fmt::format("<fieldset><legend>{}</legend>\n", T(l, kPasskeys));
  if (m.passkeys.empty()) body += fmt::format("<p>{}</p>\n", T(l, kNoPasskeys));
  body += "<ul class=\"plain\">\n";
  for (const auto& pk : m.passkeys) {
    body += fmt::format("<li>{} <span class=\"hint\">{}</span>", E(pk.label), E(pk.created));
    if (m.can_remove) {
      body += fmt::format(
          R"( <form method="post" action="/account/passkey/remove">{}<input type="hidden" name="id" value="{}"><button type="submit" class="secondary" aria-label="{} {}">{}</button></form>)",
          hidden, E(pk.id), T(l, kRemove), E(pk.label), T(l, kRemove));
    }
    body += "</li>\n";
  }
  body += fmt::format(R"(</ul>
<label for="passkey_label">{label}</label>
<input type="text" id="passkey_label" maxlength="100" value="{def}">
<button type="button" id="passkey-register" data-csrf="{csrf}">{add}</button>
<p class="hint" id="passkey-status" role="status" data-unsupported="{nosupport}"></p>
</fieldset>
)",
                      fmt::arg("label", T(l, kPasskeyName)),
                      fmt::arg("def", l == Locale::kEn ? "My passkey" : "我的通行密鑰"),
                      fmt::arg("csrf", E(m.csrf)), fmt::arg("add", T(l, kPasskeyAdd)),
                      fmt::arg("nosupport", T(l, kPasskeyNoSupport)));
  body += fmt::format("<p>{}{}</p>\n", T(l, kCertificates), m.certificates);
  body += fmt::format(
      R"(<form method="post" action="/account/signout">{}<button type="submit" class="secondary">{}</button></form>
)",
      hidden, T(l, kSignOut));
  return Page(l, T(l, kAccountTitle), body, "/account");
}

std::string RenderError(Locale l, std::string_view title, std::string_view message) {
  std::string body = fmt::format(R"(<h1>{}</h1>
<div class="alert" role="alert">{}</div>
)",
                                 E(title), E(message));
  return Page(l, title, body, "/");
}

std::string_view IdpStylesheet() {
  return R"css(:root { color-scheme: light; }
body { font-family: system-ui, "Noto Sans TC", "PingFang TC", sans-serif; margin: 0;
  color: #111; background: #f4f6f8; line-height: 1.6; font-size: 1.0625rem; }
header { background: #0b3d6b; color: #fff; padding: .75rem 1rem; display: flex;
  justify-content: space-between; align-items: center; gap: 1rem; }
header a { color: #fff; }
main { max-width: 34rem; margin: 1rem auto; padding: 1rem 1.25rem 2rem; background: #fff;
  border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=password], textarea { width: 100%; box-sizing: border-box;
  font-size: 1.125rem; padding: .6rem; border: 2px solid #555; border-radius: .375rem; }
textarea { min-height: 6rem; font-family: monospace; font-size: .9rem; }
button, .button { display: inline-block; font-size: 1.0625rem; padding: .65rem 1.1rem;
  margin: .75rem .5rem 0 0; border-radius: .375rem; border: 2px solid #0b3d6b;
  background: #0b3d6b; color: #fff; cursor: pointer; min-height: 44px; }
button.secondary { background: #fff; color: #0b3d6b; }
:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
.hint { color: #333; font-size: .95rem; margin: .25rem 0; }
.alert { border-left: 6px solid #a30000; background: #fdecec; padding: .6rem .8rem;
  margin: .75rem 0; }
.notice { border-left: 6px solid #0b3d6b; background: #e8f0f8; padding: .6rem .8rem;
  margin: .75rem 0; }
fieldset { border: 1px solid #888; border-radius: .5rem; margin: 1rem 0; padding: .5rem 1rem 1rem; }
legend { font-weight: 700; padding: 0 .25rem; }
code, .mono { font-family: monospace; word-break: break-all; }
ul.plain { padding-left: 1.2rem; }
.qr svg { width: 14rem; height: 14rem; }
)css";
}

std::string_view IdpScript() {
  // Passkeys (WebAuthn) and the card component. Buffers travel as base64url.
  return R"js('use strict';
(function () {
  function b64u(buf) {
    var s = '', b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function unb64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function post(url, body) {
    return fetch(url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { j.ok = r.ok; return j; }); });
  }
  function say(el, text) { el.textContent = text; }
  function supported(status) {
    if (window.PublicKeyCredential) return true;
    say(status, status.dataset.unsupported);
    return false;
  }
  var signin = document.getElementById('passkey-signin');
  if (signin) signin.addEventListener('click', function () {
    var status = document.getElementById('passkey-status');
    if (!supported(status)) return;
    var base = { r: signin.dataset.r, csrf: signin.dataset.csrf };
    post('/signin/passkey/begin', base).then(function (o) {
      if (!o.ok) throw new Error(o.message);
      return navigator.credentials.get({ publicKey: {
        challenge: unb64u(o.challenge), rpId: o.rpId, timeout: o.timeout,
        userVerification: o.userVerification,
        allowCredentials: o.allowCredentials.map(function (c) {
          return { type: 'public-key', id: unb64u(c) }; }) } });
    }).then(function (cred) {
      var r = cred.response;
      return post('/signin/passkey/finish', Object.assign(base, { id: cred.id,
        clientDataJSON: b64u(r.clientDataJSON), authenticatorData: b64u(r.authenticatorData),
        signature: b64u(r.signature) }));
    }).then(function (res) {
      if (res.redirect) { window.location.assign(res.redirect); return; }
      say(status, res.message);
    }).catch(function (e) { say(status, e.message || String(e)); });
  });
  var register = document.getElementById('passkey-register');
  if (register) register.addEventListener('click', function () {
    var status = document.getElementById('passkey-status');
    if (!supported(status)) return;
    var base = { csrf: register.dataset.csrf,
      label: document.getElementById('passkey_label').value };
    post('/account/passkey/begin', base).then(function (o) {
      if (!o.ok) throw new Error(o.message);
      return navigator.credentials.create({ publicKey: {
        challenge: unb64u(o.challenge), rp: o.rp, timeout: o.timeout,
        user: { id: unb64u(o.user.id), name: o.user.name, displayName: o.user.displayName },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }],
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
        attestation: 'none',
        excludeCredentials: o.excludeCredentials.map(function (c) {
          return { type: 'public-key', id: unb64u(c) }; }) } });
    }).then(function (cred) {
      var r = cred.response;
      return post('/account/passkey/finish', Object.assign(base, { id: cred.id,
        clientDataJSON: b64u(r.clientDataJSON), attestationObject: b64u(r.attestationObject) }));
    }).then(function (res) {
      if (res.ok) { window.location.assign('/account'); return; }
      say(status, res.message);
    }).catch(function (e) { say(status, e.message || String(e)); });
  });
  var card = document.getElementById('certificate-sign');
  if (card) card.addEventListener('click', function () {
    var challenge = document.getElementById('certificate-challenge').textContent;
    post(card.dataset.component, { challenge: challenge }).then(function (res) {
      document.getElementById('certificate_signature').value = res.signature || '';
      if (res.signature) card.form.submit();
    }).catch(function (e) {
      document.getElementById('certificate_signature').focus();
    });
  });
})();
)js";
}

}  // namespace troad::identity
