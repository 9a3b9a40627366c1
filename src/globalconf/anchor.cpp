#include "globalconf/anchor.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/encoding.h"
#include "core/file.h"
#include "core/ids.h"
#include "core/json.h"
#include "globalconf/signed.h"

namespace troad::globalconf {
namespace {

constexpr std::string_view kHttpsScheme = "https://";
// PEM text of one key or certificate: an RSA-16384 public key is about 3 KiB.
constexpr size_t kMaxPemBytes = 64 * 1024;

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

// Path characters of RFC 3986 (pchar and '/'), without '?' and '#'.
bool IsPathChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("-._~!$&'()*+,;=:@%/").find(c) != std::string_view::npos;
}

}  // namespace

Result<std::string> NormalizeCentralUrl(std::string_view url) {
  const std::string shown = EscapeForLog(url);
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, "\"{}\" {}", shown, why);
  };
  const bool https =
      url.size() >= kHttpsScheme.size() &&
      std::equal(kHttpsScheme.begin(), kHttpsScheme.end(), url.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  if (!https) return bad("is not an https:// URL");
  std::string_view rest = url.substr(kHttpsScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) return bad("has user information");

  std::string_view host;
  std::string_view after_host;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    in6_addr address{};
    if (host.empty() || host.size() > 45 ||
        inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return bad("has an invalid IPv6 address");
    }
    after_host = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (host.empty()) return bad("has no host");
    if (host.size() > 253 || !std::all_of(host.begin(), host.end(), IsHostChar)) {
      return bad("has an invalid host name");
    }
  }
  if (!after_host.empty()) {
    const std::string_view digits = after_host.substr(1);
    unsigned port = 0;
    const bool ok =
        after_host.front() == ':' && !digits.empty() && digits.size() <= 5 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) {
      for (char c : digits) port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || port == 0 || port > 65535) return bad("has no valid port (1..65535) after the host");
  }
  if (!std::all_of(path.begin(), path.end(), IsPathChar)) {
    return bad("may only have a base path: no query, fragment, spaces or other characters");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string out(kHttpsScheme);
  out.append(authority);
  out.append(path);
  return out;
}

Result<Anchor> ParseAnchor(std::string_view json) {
  if (json.size() > kMaxAnchorBytes) {
    return Fail(ErrorCode::kInvalidArgument, "anchor: {} bytes, more than the {} allowed",
                json.size(), kMaxAnchorBytes);
  }
  TROAD_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(json, "anchor", 8));
  JsonErrors errors;
  JsonView root(&doc, "", &errors);

  const std::string format = root.String("format", true, 100);
  if (errors.ok() && format != kAnchorFormat) {
    root.Error("format", fmt::format("\"{}\" is not \"{}\"", EscapeForLog(format), kAnchorFormat));
  }

  std::string instance = root.String("instance", true, kMaxIdPartLength);
  if (!instance.empty()) {
    if (auto st = ValidateIdPart(instance, "instance"); !st) {
      root.Error("instance", st.error().message());
    }
  }

  std::string central_url;
  const std::string url_text = root.String("central_url", true, 2048);
  if (!url_text.empty()) {
    auto url = NormalizeCentralUrl(url_text);
    if (!url) {
      root.Error("central_url", url.error().message());
    } else {
      central_url = std::move(*url);
    }
  }

  std::vector<crypto::PublicKey> keys;
  std::vector<JsonView> key_views = root.Array("configuration_keys", true);
  if (errors.ok() && key_views.empty()) {
    root.Error("configuration_keys", "must list at least one key");
  }
  if (key_views.size() > kMaxConfigurationKeys) {
    root.Error("configuration_keys",
               fmt::format("{} keys, at most {} allowed", key_views.size(), kMaxConfigurationKeys));
    key_views.clear();
  }
  std::set<std::string> key_ids;
  for (JsonView& view : key_views) {
    const std::string pem = view.AsString();
    if (!errors.ok()) break;
    if (pem.size() > kMaxPemBytes) {
      view.Error(fmt::format("longer than {} bytes", kMaxPemBytes));
      break;
    }
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key) {
      view.Error(key.error().message());
      break;
    }
    if (auto st = key->CheckStrength(); !st) {
      view.Error(st.error().message());
      break;
    }
    if (!key_ids.insert(KeyId(*key)).second) {
      view.Error("the same key is listed twice");
      break;
    }
    keys.push_back(std::move(*key));
  }

  std::optional<crypto::Certificate> ca;
  const std::string ca_pem = root.String("ca_certificate", true, kMaxPemBytes);
  if (!ca_pem.empty()) {
    auto cert = crypto::Certificate::FromPem(ca_pem);
    if (!cert) {
      root.Error("ca_certificate", cert.error().message());
    } else if (!cert->IsCa()) {
      root.Error(
          "ca_certificate",
          fmt::format("{} is not a CA certificate (basicConstraints CA:TRUE)", cert->Subject()));
    } else {
      ca = std::move(*cert);
    }
  }

  SystemTime generated_at{};
  const std::string generated_text = root.String("generated_at", true, 64);
  if (!generated_text.empty()) {
    auto t = ParseRfc3339(generated_text);
    if (!t) {
      root.Error("generated_at", t.error().message());
    } else {
      generated_at = *t;
    }
  }

  if (!errors.ok()) return Fail(errors.ToStatus("anchor").error());
  if (!ca) return Fail(ErrorCode::kInvalidArgument, "anchor: ca_certificate: is required");
  return Anchor{std::move(instance), std::move(central_url), std::move(keys), std::move(*ca),
                generated_at};
}

Result<Anchor> LoadAnchorFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Fail(std::move(text).error());
  auto anchor = ParseAnchor(*text);
  if (!anchor) return Fail(std::move(anchor).error().Context(path));
  return anchor;
}

std::string WriteAnchor(const Anchor& anchor) {
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const crypto::PublicKey& key : anchor.configuration_keys) keys.push_back(key.ToPem());
  nlohmann::ordered_json doc;
  doc["format"] = kAnchorFormat;
  doc["instance"] = anchor.instance;
  doc["central_url"] = anchor.central_url;
  doc["configuration_keys"] = std::move(keys);
  doc["ca_certificate"] = anchor.ca_certificate.ToPem();
  doc["generated_at"] = FormatRfc3339(anchor.generated_at);
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace troad::globalconf
