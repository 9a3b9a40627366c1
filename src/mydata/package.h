// The package a person downloads or a service provider collects (docs/mydata.md,
// "Packages"): one ZIP (libzip) holding, for every dataset, the provider's answer exactly
// as it came over T-Road with what proves it — the signed response header, the
// signature part and the provider's signing certificate — plus the signed consent
// record and a manifest of SHA-256 digests of every file:
//
//   manifest.json
//   consent.jws
//   household.members/data.json                 the body, byte for byte
//   household.members/response-header.json      H (docs/protocol.md §3)
//   household.members/response-signature.json   S (§4)
//   household.members/signing-certificate.der
//   …
//
// Anyone can check a part without trusting MyData: the body against H, H and S against
// the certificate, the certificate against the T-Road trust anchors
// (gateway/signed_part.h; `troad mydata package verify`). With a password the entries
// are encrypted with WinZip AES-256 (readable by 7-Zip and most archive tools).
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad::mydata {

// One dataset as its provider answered, with the provider's signature.
struct PackagePart {
  std::string dataset;     // a catalogue id: the folder's name
  std::string service;     // the T-Road service it came from
  std::string media_type;  // "application/json" names the body data.json, else data.bin
  std::string body;
  std::string response_header;     // H, exact bytes
  std::string response_signature;  // S, exact bytes
  std::string certificate_der;     // the signing certificate S names
};

struct PackageContents {
  std::string transaction;
  int64_t created_at = 0;  // Unix ms
  std::string consent_jws;
  std::vector<PackagePart> parts;  // at least one, each dataset once
};

// Entries larger than this are refused when reading: no dataset is anywhere near it, and
// a ZIP bomb must not fill memory.
inline constexpr size_t kMaxPackageEntryBytes = 64 * 1024 * 1024;

// The ZIP's bytes. `password` empty: not encrypted; otherwise 8 to 128 bytes, and every
// entry is AES-256 encrypted. kInvalidArgument for no parts, a repeated or invalid
// dataset id, an empty body, H, S or certificate, or a bad password length.
Result<std::string> BuildPackage(const PackageContents& contents, std::string_view password = {});

// Reads a package back and checks it is whole: the manifest is there and well-formed,
// every file it lists is there with its SHA-256, and nothing else is. kInvalidArgument
// naming the file for anything missing, extra, changed or malformed; kUnauthenticated
// for a wrong password (or none for an encrypted package). Does not check signatures.
Result<PackageContents> ReadPackage(std::string_view zip, std::string_view password = {});

}  // namespace troad::mydata
