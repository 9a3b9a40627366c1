#include "mydata/catalogue.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/encoding.h"
#include "mydata/validate.h"

namespace troad::mydata {
namespace {

constexpr std::string_view kColumns =
    "id, name_zh, name_en, service, path, media_type, acr, retention_s, enabled, created_at, "
    "updated_at";
constexpr size_t kMaxNameBytes = 400;
constexpr int64_t kMinRetentionS = 60;
constexpr int64_t kMaxRetentionS = 30 * 86400;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status ValidatePath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Fail(ErrorCode::kInvalidArgument, "path: must start with '/', not \"{}\"",
                EscapeForLog(path, 100));
  }
  if (path.size() > 500) {
    return Fail(ErrorCode::kInvalidArgument, "path: at most 500 bytes, not {}", path.size());
  }
  size_t first = path.find(kNationalIdPlaceholder);
  if (first == std::string_view::npos ||
      path.find(kNationalIdPlaceholder, first + 1) != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "path: must hold {} exactly once: \"{}\"",
                kNationalIdPlaceholder, EscapeForLog(path, 100));
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#' || c == '\\') {
      return Fail(ErrorCode::kInvalidArgument,
                  "path: no spaces, control characters, '#' or '\\' (\"{}\")",
                  EscapeForLog(path, 100));
    }
  }
  // Segments "." and ".." would let a path reach another service's resources after
  // normalisation; the gateway refuses them too, but say so when it is registered.
  std::string_view rest = path.substr(0, path.find('?'));
  size_t start = 1;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view segment = rest.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return Fail(ErrorCode::kInvalidArgument, "path: no \".\" or \"..\" segments: \"{}\"",
                  EscapeForLog(path, 100));
    }
    start = end + 1;
  }
  return Ok();
}

Result<Dataset> DatasetFromRow(const store::Row& row) {
  Dataset d;
  TROAD_ASSIGN_OR_RETURN(d.id, row.Text(0));
  TROAD_ASSIGN_OR_RETURN(d.name_zh, row.Text(1));
  TROAD_ASSIGN_OR_RETURN(d.name_en, row.Text(2));
  TROAD_ASSIGN_OR_RETURN(std::string service, row.Text(3));
  auto parsed = ServiceId::Parse(service);
  if (!parsed) {
    return Fail(ErrorCode::kDataLoss, "datasets.service of {}: {}", d.id, parsed.error().message());
  }
  d.service = std::move(*parsed);
  TROAD_ASSIGN_OR_RETURN(d.path, row.Text(4));
  TROAD_ASSIGN_OR_RETURN(d.media_type, row.Text(5));
  TROAD_ASSIGN_OR_RETURN(d.acr, row.Text(6));
  TROAD_ASSIGN_OR_RETURN(int64_t retention, row.Int(7));
  d.retention = std::chrono::seconds(retention);
  TROAD_ASSIGN_OR_RETURN(int64_t enabled, row.Int(8));
  d.enabled = enabled != 0;
  TROAD_ASSIGN_OR_RETURN(d.created_at, row.Int(9));
  TROAD_ASSIGN_OR_RETURN(d.updated_at, row.Int(10));
  // A row that no longer passes the rules was written by hand or by a broken release:
  // refuse to act on it rather than fetch from the wrong place.
  if (auto st = ValidateDataset(d); !st) {
    return Fail(ErrorCode::kDataLoss, "datasets row {}: {}", d.id, st.error().message());
  }
  return d;
}

}  // namespace

Status ValidateDataset(const Dataset& d) {
  TROAD_RETURN_IF_ERROR(ValidateId("id", d.id));
  TROAD_RETURN_IF_ERROR(ValidateText("name zh-TW", d.name_zh, kMaxNameBytes));
  TROAD_RETURN_IF_ERROR(ValidateText("name en", d.name_en, kMaxNameBytes));
  if (auto st = ServiceId::Parse(d.service.ToString()); !st) {
    return Fail(ErrorCode::kInvalidArgument, "service: {}", st.error().message());
  }
  TROAD_RETURN_IF_ERROR(ValidatePath(d.path));
  size_t slash = d.media_type.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == d.media_type.size() ||
      d.media_type.size() > 100 ||
      !std::all_of(d.media_type.begin(), d.media_type.end(), [](char c) {
        return IsLower(c) || IsDigit(c) || c == '/' || c == '.' || c == '-' || c == '+';
      })) {
    return Fail(ErrorCode::kInvalidArgument,
                "media_type: a lower-case type/subtype such as application/json, not \"{}\"",
                EscapeForLog(d.media_type, 80));
  }
  if (!IsIdpAcr(d.acr)) {
    return Fail(ErrorCode::kInvalidArgument,
                "acr: one of urn:troad:loa:1, urn:troad:loa:2, urn:troad:loa:3, "
                "urn:troad:mfa, not \"{}\"",
                EscapeForLog(d.acr, 80));
  }
  if (d.retention.count() < kMinRetentionS || d.retention.count() > kMaxRetentionS) {
    return Fail(ErrorCode::kInvalidArgument,
                "retention_s: {} to {} seconds (1 minute to 30 days), not {}", kMinRetentionS,
                kMaxRetentionS, d.retention.count());
  }
  return Ok();
}

nlohmann::json DatasetToJson(const Dataset& d) {
  return {{"id", d.id},
          {"name", {{"zh-TW", d.name_zh}, {"en", d.name_en}}},
          {"service", d.service.ToString()},
          {"path", d.path},
          {"media_type", d.media_type},
          {"acr", d.acr},
          {"retention_s", d.retention.count()},
          {"enabled", d.enabled}};
}

Result<Dataset> DatasetFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Fail(ErrorCode::kInvalidArgument, "a dataset is a JSON object");
  auto string = [&](const char* key, std::string& out, bool required) -> Status {
    auto it = json.find(key);
    if (it == json.end()) {
      return required ? Fail(ErrorCode::kInvalidArgument, "{}: required", key) : Ok();
    }
    if (!it->is_string()) return Fail(ErrorCode::kInvalidArgument, "{}: must be a string", key);
    out = it->get<std::string>();
    return Ok();
  };
  Dataset d;
  TROAD_RETURN_IF_ERROR(string("id", d.id, true));
  auto name = json.find("name");
  if (name == json.end() || !name->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "name: required, {{\"zh-TW\": …, \"en\": …}}");
  }
  for (auto [lang, out] : {std::pair{"zh-TW", &d.name_zh}, std::pair{"en", &d.name_en}}) {
    auto it = name->find(lang);
    if (it == name->end() || !it->is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "name.{}: required, a string", lang);
    }
    *out = it->get<std::string>();
  }
  std::string service;
  TROAD_RETURN_IF_ERROR(string("service", service, true));
  auto parsed = ServiceId::Parse(service);
  if (!parsed) return Fail(ErrorCode::kInvalidArgument, "service: {}", parsed.error().message());
  d.service = std::move(*parsed);
  TROAD_RETURN_IF_ERROR(string("path", d.path, true));
  TROAD_RETURN_IF_ERROR(string("media_type", d.media_type, false));
  TROAD_RETURN_IF_ERROR(string("acr", d.acr, false));
  if (auto it = json.find("retention_s"); it != json.end()) {
    if (!it->is_number_integer()) {
      return Fail(ErrorCode::kInvalidArgument, "retention_s: must be a whole number of seconds");
    }
    d.retention = std::chrono::seconds(it->get<int64_t>());
  }
  if (auto it = json.find("enabled"); it != json.end()) {
    if (!it->is_boolean()) return Fail(ErrorCode::kInvalidArgument, "enabled: true or false");
    d.enabled = it->get<bool>();
  }
  TROAD_RETURN_IF_ERROR(ValidateDataset(d));
  return d;
}

Result<std::string> DatasetPathFor(const Dataset& dataset, std::string_view national_id) {
  if (national_id.size() != 10 || national_id[0] < 'A' || national_id[0] > 'Z' ||
      !std::all_of(national_id.begin() + 1, national_id.end(), IsDigit)) {
    return Fail(ErrorCode::kInvalidArgument,
                "a national id is a capital letter and nine digits, not \"{}\"",
                EscapeForLog(national_id, 20));
  }
  std::string path = dataset.path;
  size_t at = path.find(kNationalIdPlaceholder);
  if (at == std::string::npos) {
    return Fail(ErrorCode::kFailedPrecondition, "dataset {} has no {} in its path", dataset.id,
                kNationalIdPlaceholder);
  }
  path.replace(at, kNationalIdPlaceholder.size(), national_id);
  return path;
}

Status Catalogue::Add(const Dataset& d) {
  TROAD_RETURN_IF_ERROR(ValidateDataset(d));
  TROAD_ASSIGN_OR_RETURN(auto existing, db_.Query("SELECT id FROM datasets WHERE id = ?", {d.id}));
  if (!existing.empty()) {
    return Fail(ErrorCode::kAlreadyExists, "dataset {} is already in the catalogue", d.id);
  }
  int64_t now = clock_.NowMillis();
  TROAD_RETURN_IF_ERROR(db_.Execute(
      fmt::format("INSERT INTO datasets ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kColumns),
      {d.id, d.name_zh, d.name_en, d.service.ToString(), d.path, d.media_type, d.acr,
       static_cast<int64_t>(d.retention.count()), int64_t{d.enabled}, now, now}));
  return Ok();
}

Status Catalogue::Update(const Dataset& d) {
  TROAD_RETURN_IF_ERROR(ValidateDataset(d));
  TROAD_ASSIGN_OR_RETURN(
      int64_t changed,
      db_.Execute("UPDATE datasets SET name_zh = ?, name_en = ?, service = ?, path = ?, "
                  "media_type = ?, acr = ?, retention_s = ?, enabled = ?, updated_at = ? "
                  "WHERE id = ?",
                  {d.name_zh, d.name_en, d.service.ToString(), d.path, d.media_type, d.acr,
                   static_cast<int64_t>(d.retention.count()), int64_t{d.enabled},
                   clock_.NowMillis(), d.id}));
  if (changed == 0) return Fail(ErrorCode::kNotFound, "no dataset {} in the catalogue", d.id);
  return Ok();
}

Result<Dataset> Catalogue::Get(std::string_view id) {
  TROAD_ASSIGN_OR_RETURN(
      auto rows,
      db_.Query(fmt::format("SELECT {} FROM datasets WHERE id = ?", kColumns), {std::string(id)}));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "no dataset {} in the catalogue", EscapeForLog(id, 80));
  }
  return DatasetFromRow(rows[0]);
}

Result<std::vector<Dataset>> Catalogue::List(bool include_disabled) {
  TROAD_ASSIGN_OR_RETURN(auto rows,
                         db_.Query(fmt::format("SELECT {} FROM datasets {} ORDER BY id", kColumns,
                                               include_disabled ? "" : "WHERE enabled = 1")));
  std::vector<Dataset> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    TROAD_ASSIGN_OR_RETURN(Dataset d, DatasetFromRow(row));
    out.push_back(std::move(d));
  }
  return out;
}

Status Catalogue::SetEnabled(std::string_view id, bool enabled) {
  TROAD_ASSIGN_OR_RETURN(int64_t changed,
                         db_.Execute("UPDATE datasets SET enabled = ?, updated_at = ? WHERE id = ?",
                                     {int64_t{enabled}, clock_.NowMillis(), std::string(id)}));
  if (changed == 0) {
    return Fail(ErrorCode::kNotFound, "no dataset {} in the catalogue", EscapeForLog(id, 80));
  }
  return Ok();
}

}  // namespace troad::mydata
