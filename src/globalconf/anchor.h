// The configuration anchor: what a gateway is given to find and trust the central's
// global configuration — the instance, the central's https URL, the configuration
// signing keys it trusts (more than one during a key rollover), and the network CA that
// issued the central's TLS certificate. The central writes it (WriteAnchor); a gateway
// reads it at start-up (LoadAnchorFile). Byte-level format: docs/protocol.md §10.
//
//   {"format":"troad-anchor/1","instance":"TW","central_url":"https://127.0.0.1:4400",
//    "configuration_keys":["-----BEGIN PUBLIC KEY-----\n..."],
//    "ca_certificate":"-----BEGIN CERTIFICATE-----\n...",
//    "generated_at":"2026-11-24T10:00:00Z"}
//
// Thread-safety: an Anchor is a value; the functions are pure (LoadAnchorFile reads a file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "crypto/key.h"
#include "crypto/x509.h"

namespace troad::globalconf {

inline constexpr std::string_view kAnchorFormat = "troad-anchor/1";
// An anchor is a few keys and one certificate; anything far larger is not one.
inline constexpr size_t kMaxAnchorBytes = 1024 * 1024;
inline constexpr size_t kMaxConfigurationKeys = 16;

struct Anchor {
  std::string instance;  // the instance the configuration must be for ("TW")
  // "https://host[:port][/base]", without a trailing '/': the central's URLs are this
  // plus "/globalconf/v1/…". The host (name or IP) must be in the central's TLS
  // certificate.
  std::string central_url;
  std::vector<crypto::PublicKey> configuration_keys;  // at least one; each CheckStrength-ok
  crypto::Certificate ca_certificate;  // a CA certificate; verifies the central's TLS
  SystemTime generated_at{};
};

// Parses and validates an anchor. kInvalidArgument names the field and what is wrong
// ("anchor: configuration_keys[1]: ..."): every field is required; unknown fields are
// ignored (a later minor version may add some).
Result<Anchor> ParseAnchor(std::string_view json);

// As ParseAnchor on the file's contents; kNotFound when it does not exist, and every
// message starts with the path.
Result<Anchor> LoadAnchorFile(const std::string& path);

// The anchor's JSON text (two-space indented, keys in the order above, ending in a
// newline), which ParseAnchor reads back to an equal anchor. `anchor` must be valid
// (ParseAnchor's rules); the central checks its own output by parsing it.
std::string WriteAnchor(const Anchor& anchor);

// Checks a central URL as the anchor requires it: https, a host, an optional port
// (1..65535) and base path; no user information, query or fragment. Returns it without
// a trailing '/'. kInvalidArgument says what is wrong.
Result<std::string> NormalizeCentralUrl(std::string_view url);

}  // namespace troad::globalconf
