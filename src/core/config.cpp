#include "core/config.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "core/file.h"

namespace troad {

std::string TomlQuote(std::string_view text) {
  // A basic ("…") string with escapes, not toml++'s default choice of literal ('…')
  // or multi-line strings: generated files then look like the ones in the docs.
  std::ostringstream out;
  toml::value<std::string> value{std::string(text)};
  out << toml::toml_formatter{value, toml::format_flags::allow_unicode_strings};
  return std::move(out).str();
}

std::string ConfigSection::KeyPath(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const toml::node* ConfigSection::Get(const std::string& key) {
  doc_->seen_.insert(KeyPath(key));
  if (table_ == nullptr) return nullptr;
  return table_->get(key);
}

bool ConfigSection::Has(const std::string& key) const {
  return table_ != nullptr && table_->contains(key);
}

void ConfigSection::Error(const std::string& key, const std::string& message) {
  doc_->errors_.push_back(fmt::format("{}: {}: {}", doc_->name_, KeyPath(key), message));
}

std::string ConfigSection::String(const std::string& key, const std::string& def) {
  auto v = OptionalString(key);
  return v ? *v : def;
}

std::optional<std::string> ConfigSection::OptionalString(const std::string& key) {
  const toml::node* node = Get(key);
  if (node == nullptr) return std::nullopt;
  if (auto s = node->value<std::string>(); s && node->is_string()) return *s;
  Error(key, "expected a string");
  return std::nullopt;
}

std::string ConfigSection::RequiredString(const std::string& key) {
  if (!Has(key)) {
    Get(key);
    Error(key, "is required");
    return "";
  }
  auto v = OptionalString(key);
  if (v && v->empty()) Error(key, "must not be empty");
  return v.value_or("");
}

int64_t ConfigSection::Int(const std::string& key, int64_t def, int64_t min, int64_t max) {
  const toml::node* node = Get(key);
  if (node == nullptr) return def;
  if (!node->is_integer()) {
    Error(key, "expected an integer");
    return def;
  }
  int64_t v = *node->value<int64_t>();
  if (v < min || v > max) {
    Error(key, fmt::format("{} is out of range [{}, {}]", v, min, max));
    return def;
  }
  return v;
}

bool ConfigSection::Bool(const std::string& key, bool def) {
  const toml::node* node = Get(key);
  if (node == nullptr) return def;
  if (!node->is_boolean()) {
    Error(key, "expected true or false");
    return def;
  }
  return *node->value<bool>();
}

std::vector<std::string> ConfigSection::StringList(const std::string& key) {
  std::vector<std::string> out;
  const toml::node* node = Get(key);
  if (node == nullptr) return out;
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    Error(key, "expected an array of strings");
    return out;
  }
  for (const auto& el : *arr) {
    if (!el.is_string()) {
      Error(key, "expected an array of strings");
      return {};
    }
    out.push_back(*el.value<std::string>());
  }
  return out;
}

ConfigSection ConfigSection::Section(const std::string& key) {
  const toml::node* node = Get(key);
  if (node == nullptr) return ConfigSection(doc_, nullptr, KeyPath(key));
  if (!node->is_table()) {
    Error(key, "expected a table");
    return ConfigSection(doc_, nullptr, KeyPath(key));
  }
  return ConfigSection(doc_, node->as_table(), KeyPath(key));
}

std::vector<ConfigSection> ConfigSection::SectionList(const std::string& key) {
  std::vector<ConfigSection> out;
  const toml::node* node = Get(key);
  if (node == nullptr) return out;
  const toml::array* arr = node->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    Error(key, "expected an array of tables ([[" + KeyPath(key) + "]])");
    return out;
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string path = fmt::format("{}[{}]", KeyPath(key), i);
    out.push_back(ConfigSection(doc_, (*arr)[i].as_table(), path));
  }
  return out;
}

Result<std::unique_ptr<TomlDocument>> TomlDocument::Parse(std::string_view text,
                                                          const std::string& name) {
  // Debian's toml++ is built with exceptions on; this is start-up code, not a
  // request path, so the exception is caught right here and becomes an Error.
  try {
    toml::table table = toml::parse(text, name);
    return std::unique_ptr<TomlDocument>(new TomlDocument(std::move(table), name));
  } catch (const toml::parse_error& err) {
    return Fail(ErrorCode::kInvalidArgument, "{}:{}:{}: {}", name, err.source().begin.line,
                err.source().begin.column, err.description());
  }
}

Result<std::unique_ptr<TomlDocument>> TomlDocument::Load(const std::string& file) {
  TROAD_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  return Parse(text, file);
}

void TomlDocument::CollectUnknown(const toml::table& table, const std::string& path,
                                  std::vector<std::string>& out) const {
  for (const auto& [k, v] : table) {
    std::string key_path = path.empty() ? std::string(k.str()) : path + "." + std::string(k.str());
    if (!seen_.count(key_path)) {
      out.push_back(key_path);
      continue;
    }
    if (const toml::table* sub = v.as_table()) {
      CollectUnknown(*sub, key_path, out);
    } else if (const toml::array* arr = v.as_array(); arr && arr->is_array_of_tables()) {
      for (size_t i = 0; i < arr->size(); ++i) {
        CollectUnknown(*(*arr)[i].as_table(), fmt::format("{}[{}]", key_path, i), out);
      }
    }
  }
}

std::string TomlDocument::ResolvePath(const std::string& file) const {
  if (file.empty()) return file;
  std::filesystem::path p(file);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::absolute(name_).parent_path() / p).lexically_normal().string();
}

Status TomlDocument::Finish() {
  if (!errors_.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{}", fmt::join(errors_, "; "));
  }
  std::vector<std::string> unknown;
  CollectUnknown(table_, "", unknown);
  if (!unknown.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{}: unknown key(s): {}", name_,
                fmt::join(unknown, ", "));
  }
  return Ok();
}

LogSettings ReadLogSettings(ConfigSection logging) {
  LogSettings out;
  out.level = logging.String("level", "info");
  const std::string format = logging.String("format", "json");
  if (format != "json" && format != "text") logging.Error("format", "must be \"json\" or \"text\"");
  out.json = format == "json";
  return out;
}

}  // namespace troad
