#include "mydata/package.h"

#include <fmt/format.h>
#include <zip.h>

#include <map>
#include <memory>
#include <set>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "mydata/validate.h"

namespace troad::mydata {
namespace {

constexpr std::string_view kFormat = "troad-mydata-package/1";
constexpr std::string_view kManifest = "manifest.json";
constexpr std::string_view kConsent = "consent.jws";
constexpr size_t kMaxEntries = 4 * 100 + 2;  // four files per dataset, 100 datasets

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
using SourcePtr = std::unique_ptr<zip_source_t, SourceFree>;

std::string ZipError(zip_t* z) { return zip_strerror(z); }

// The files of one part, by role.
struct PartFiles {
  std::string body, header, signature, certificate;
};

PartFiles FilesOf(const PackagePart& p) {
  std::string dir = p.dataset + "/";
  return {dir + (p.media_type == "application/json" ? "data.json" : "data.bin"),
          dir + "response-header.json", dir + "response-signature.json",
          dir + "signing-certificate.der"};
}

Status AddFile(zip_t* z, const std::string& name, const std::string& data,
               std::string_view password, time_t mtime) {
  // libzip copies nothing: the buffer must outlive zip_close, which the caller ensures.
  zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
  if (src == nullptr) return Fail(ErrorCode::kInternal, "zip: {}", ZipError(z));
  zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(src);
    return Fail(ErrorCode::kInternal, "zip: adding {}: {}", name, ZipError(z));
  }
  auto i = static_cast<zip_uint64_t>(index);
  if (zip_file_set_mtime(z, i, mtime, 0) != 0 ||
      (!password.empty() &&
       zip_file_set_encryption(z, i, ZIP_EM_AES_256, std::string(password).c_str()) != 0)) {
    return Fail(ErrorCode::kInternal, "zip: {}: {}", name, ZipError(z));
  }
  return Ok();
}

// What zip_close wrote into `src`, as bytes.
Result<std::string> SourceBytes(zip_source_t* src) {
  if (zip_source_open(src) != 0) return Fail(ErrorCode::kInternal, "zip: cannot read it back");
  std::string out;
  char buf[64 * 1024];
  zip_int64_t n;
  while ((n = zip_source_read(src, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  zip_source_close(src);
  if (n < 0) return Fail(ErrorCode::kInternal, "zip: reading it back failed");
  return out;
}

}  // namespace

Result<std::string> BuildPackage(const PackageContents& c, std::string_view password) {
  if (c.parts.empty() || c.parts.size() > 100) {
    return Fail(ErrorCode::kInvalidArgument, "a package holds 1 to 100 datasets, not {}",
                c.parts.size());
  }
  if (!password.empty() && (password.size() < 8 || password.size() > 128)) {
    return Fail(ErrorCode::kInvalidArgument, "a package password is 8 to 128 bytes, not {}",
                password.size());
  }
  if (c.consent_jws.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a package carries its consent record");
  }
  // name → contents, in the order written; the manifest lists each with its digest.
  std::vector<std::pair<std::string, const std::string*>> files;
  files.emplace_back(kConsent, &c.consent_jws);
  nlohmann::json parts = nlohmann::json::array();
  std::set<std::string> seen;
  for (const auto& p : c.parts) {
    TROAD_RETURN_IF_ERROR(ValidateId("dataset", p.dataset));
    if (!seen.insert(p.dataset).second) {
      return Fail(ErrorCode::kInvalidArgument, "dataset {} is in the package twice", p.dataset);
    }
    if (p.body.empty() || p.response_header.empty() || p.response_signature.empty() ||
        p.certificate_der.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "dataset {}: the body, H, S and the certificate are all required", p.dataset);
    }
    PartFiles f = FilesOf(p);
    files.emplace_back(f.body, &p.body);
    files.emplace_back(f.header, &p.response_header);
    files.emplace_back(f.signature, &p.response_signature);
    files.emplace_back(f.certificate, &p.certificate_der);
    parts.push_back({{"dataset", p.dataset},
                     {"service", p.service},
                     {"media_type", p.media_type},
                     {"body", f.body},
                     {"response_header", f.header},
                     {"response_signature", f.signature},
                     {"certificate", f.certificate}});
  }
  nlohmann::json digests = nlohmann::json::object();
  for (const auto& [name, data] : files) digests[name] = crypto::Sha256Hex(*data);
  const std::string manifest =
      nlohmann::json{{"format", kFormat},
                     {"transaction", c.transaction},
                     {"created_at", FormatRfc3339(FromUnixMillis(c.created_at))},
                     {"created_at_ms", c.created_at},
                     {"parts", parts},
                     {"sha256", digests}}
          .dump(2) +
      "\n";

  zip_error_t error;
  zip_error_init(&error);
  SourcePtr src(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!src) return Fail(ErrorCode::kInternal, "zip: {}", zip_error_strerror(&error));
  ZipPtr z(zip_open_from_source(src.get(), ZIP_TRUNCATE, &error));
  if (!z) return Fail(ErrorCode::kInternal, "zip: {}", zip_error_strerror(&error));
  zip_source_keep(src.get());  // z holds a reference; we read the result from src after close
  const time_t mtime = static_cast<time_t>(c.created_at / 1000);
  TROAD_RETURN_IF_ERROR(AddFile(z.get(), std::string(kManifest), manifest, password, mtime));
  for (const auto& [name, data] : files) {
    TROAD_RETURN_IF_ERROR(AddFile(z.get(), name, *data, password, mtime));
  }
  if (zip_close(z.get()) != 0) {
    return Fail(ErrorCode::kInternal, "zip: writing the package: {}", ZipError(z.get()));
  }
  (void)z.release();  // zip_close freed it
  return SourceBytes(src.get());
}

Result<PackageContents> ReadPackage(std::string_view zip, std::string_view password) {
  zip_error_t error;
  zip_error_init(&error);
  SourcePtr src(zip_source_buffer_create(zip.data(), zip.size(), 0, &error));
  if (!src) return Fail(ErrorCode::kInternal, "zip: {}", zip_error_strerror(&error));
  ZipPtr z(zip_open_from_source(src.get(), ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!z) {
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Fail(ErrorCode::kInvalidArgument, "not a readable ZIP: {}", why);
  }
  zip_source_keep(src.get());
  if (!password.empty()) zip_set_default_password(z.get(), std::string(password).c_str());
  zip_int64_t count = zip_get_num_entries(z.get(), 0);
  if (count < 0 || static_cast<size_t>(count) > kMaxEntries) {
    return Fail(ErrorCode::kInvalidArgument, "a package holds at most {} files", kMaxEntries);
  }
  std::map<std::string, std::string> entries;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE)) {
      return Fail(ErrorCode::kInvalidArgument, "entry {}: {}", i, ZipError(z.get()));
    }
    std::string name = st.name;
    if (st.size > kMaxPackageEntryBytes) {
      return Fail(ErrorCode::kInvalidArgument, "{}: {} bytes, over the limit of {}",
                  EscapeForLog(name, 100), st.size, kMaxPackageEntryBytes);
    }
    // Entries are plain or AES-256 (what BuildPackage writes). Anything else is refused
    // here, before libzip tries it (libzip 1.7 leaks on an unsupported method).
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE &&
        st.encryption_method != ZIP_EM_AES_256) {
      return Fail(ErrorCode::kInvalidArgument,
                  "{}: encrypted with a method other than AES-256 (0x{:04x})",
                  EscapeForLog(name, 100), st.encryption_method);
    }
    zip_file_t* f = zip_fopen_index(z.get(), static_cast<zip_uint64_t>(i), 0);
    if (f == nullptr) {
      int code = zip_error_code_zip(zip_get_error(z.get()));
      if (code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_NOPASSWD) {
        return Fail(ErrorCode::kUnauthenticated, "{}: {}", EscapeForLog(name, 100),
                    code == ZIP_ER_NOPASSWD ? "the package is encrypted: a password is needed"
                                            : "wrong password");
      }
      return Fail(ErrorCode::kInvalidArgument, "{}: {}", EscapeForLog(name, 100),
                  ZipError(z.get()));
    }
    std::string data(static_cast<size_t>(st.size), '\0');
    zip_int64_t got = zip_fread(f, data.data(), st.size);
    // A wrong AES password is found by the verifier bytes at open; a corrupt entry by its
    // CRC or authentication code at the end of the read.
    int code = got < 0 ? zip_error_code_zip(zip_file_get_error(f)) : 0;
    zip_fclose(f);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) {
      if (code == ZIP_ER_WRONGPASSWD) {
        return Fail(ErrorCode::kUnauthenticated, "{}: wrong password", EscapeForLog(name, 100));
      }
      return Fail(ErrorCode::kInvalidArgument, "{}: cannot be read whole (damaged?)",
                  EscapeForLog(name, 100));
    }
    if (!entries.emplace(name, std::move(data)).second) {
      return Fail(ErrorCode::kInvalidArgument, "{} is in the package twice",
                  EscapeForLog(name, 100));
    }
  }

  auto manifest_it = entries.find(std::string(kManifest));
  if (manifest_it == entries.end()) {
    return Fail(ErrorCode::kInvalidArgument, "no {} in the package", kManifest);
  }
  TROAD_ASSIGN_OR_RETURN(auto manifest, ParseJson(manifest_it->second, kManifest, 8));
  JsonErrors errors;
  JsonView in(&manifest, "", &errors);
  if (in.String("format") != kFormat) in.Error("format", fmt::format("must be \"{}\"", kFormat));
  PackageContents c;
  c.transaction = in.String("transaction", true, 200);
  c.created_at = in.Int("created_at_ms", true, 0, 0, int64_t{1} << 50);
  std::map<std::string, std::string> digests;
  if (auto it = manifest.find("sha256"); it != manifest.end() && it->is_object()) {
    for (const auto& [name, digest] : it->items()) {
      if (!digest.is_string()) {
        in.Error("sha256", name + ": not a string");
      } else {
        digests[name] = digest.get<std::string>();
      }
    }
  } else {
    in.Error("sha256", "required, an object of file name → hex SHA-256");
  }
  TROAD_RETURN_IF_ERROR(errors.ToStatus(kManifest));
  // Every file listed is there with its digest, and nothing else is.
  for (const auto& [name, digest] : digests) {
    auto it = entries.find(name);
    if (it == entries.end()) {
      return Fail(ErrorCode::kInvalidArgument, "{} is in the manifest but not in the package",
                  EscapeForLog(name, 100));
    }
    if (!crypto::ConstantTimeEqual(crypto::Sha256Hex(it->second), digest)) {
      return Fail(ErrorCode::kInvalidArgument, "{} does not match its SHA-256 in the manifest",
                  EscapeForLog(name, 100));
    }
  }
  for (const auto& [name, data] : entries) {
    if (name != kManifest && !digests.count(name)) {
      return Fail(ErrorCode::kInvalidArgument, "{} is in the package but not in the manifest",
                  EscapeForLog(name, 100));
    }
  }
  auto file = [&](JsonView& part, const char* key) -> std::string {
    std::string name = part.String(key, true, 200);
    if (!name.empty() && !digests.count(name)) {
      part.Error(key, fmt::format("{} has no digest in the manifest", EscapeForLog(name, 100)));
      return {};
    }
    return name.empty() ? std::string() : entries[name];
  };
  if (!digests.count(std::string(kConsent))) {
    return Fail(ErrorCode::kInvalidArgument, "no {} in the package", kConsent);
  }
  c.consent_jws = entries[std::string(kConsent)];
  for (JsonView part : in.Array("parts", true)) {
    PackagePart p;
    p.dataset = part.String("dataset", true, 64);
    p.service = part.String("service", true, 1000);
    p.media_type = part.String("media_type", true, 100);
    p.body = file(part, "body");
    p.response_header = file(part, "response_header");
    p.response_signature = file(part, "response_signature");
    p.certificate_der = file(part, "certificate");
    c.parts.push_back(std::move(p));
  }
  TROAD_RETURN_IF_ERROR(errors.ToStatus(kManifest));
  if (c.parts.empty()) return Fail(ErrorCode::kInvalidArgument, "{}: no parts", kManifest);
  return c;
}

}  // namespace troad::mydata
