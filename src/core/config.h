// Reading TOML configuration files with errors an operator can act on: every error
// names the file, the key path and what was expected, and unknown keys are refused
// (a misspelt key silently ignored is how outages start).
//
// Usage:
//   TROAD_ASSIGN_OR_RETURN(auto doc, TomlDocument::Load(path));
//   ConfigSection gw = doc.Root().Section("gateway");
//   auto port = gw.Int("port", 8080, 1, 65535);   // records the key as known
//   ...
//   TROAD_RETURN_IF_ERROR(doc.Finish());          // first error, or an unknown key
//
// Thread-safety: not thread-safe; parse once at start-up into an immutable object.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad {

// `text` as a TOML basic string, "quoted" and escaped (by toml++'s formatter), for
// writing configuration files: `key = ` + TomlQuote(value).
std::string TomlQuote(std::string_view text);

class TomlDocument;

class ConfigSection {
 public:
  // Values; a missing key gives the default, a wrong type or range records an error.
  std::string String(const std::string& key, const std::string& def = "");
  std::optional<std::string> OptionalString(const std::string& key);
  // Like String, but a missing key records an error.
  std::string RequiredString(const std::string& key);
  int64_t Int(const std::string& key, int64_t def, int64_t min, int64_t max);
  bool Bool(const std::string& key, bool def);
  std::vector<std::string> StringList(const std::string& key);

  // A sub-table ([a.b]); missing gives an empty section.
  ConfigSection Section(const std::string& key);
  // An array of tables ([[key]]).
  std::vector<ConfigSection> SectionList(const std::string& key);

  bool Has(const std::string& key) const;
  const std::string& path() const { return path_; }
  // Records an error at this section's key (for checks beyond type and range).
  void Error(const std::string& key, const std::string& message);

 private:
  friend class TomlDocument;
  ConfigSection(TomlDocument* doc, const toml::table* table, std::string path)
      : doc_(doc), table_(table), path_(std::move(path)) {}
  const toml::node* Get(const std::string& key);
  std::string KeyPath(const std::string& key) const;

  TomlDocument* doc_;
  const toml::table* table_;  // may be null: an absent section
  std::string path_;
};

// The [logging] section every process's configuration has: `level` (default "info")
// and `format` ("json", the default, or "text"; anything else is recorded as an error).
struct LogSettings {
  std::string level = "info";
  bool json = true;
};
LogSettings ReadLogSettings(ConfigSection logging);

class TomlDocument {
 public:
  static Result<std::unique_ptr<TomlDocument>> Load(const std::string& file);
  static Result<std::unique_ptr<TomlDocument>> Parse(std::string_view text,
                                                     const std::string& name);

  ConfigSection Root() { return ConfigSection(this, &table_, ""); }
  // The first error recorded while reading, or the first key never read.
  Status Finish();
  const std::string& name() const { return name_; }
  // A file named in the configuration: an absolute `file` as is, a relative one taken
  // relative to the folder of the configuration file (name()); "" stays "".
  std::string ResolvePath(const std::string& file) const;

 private:
  friend class ConfigSection;
  TomlDocument(toml::table table, std::string name)
      : table_(std::move(table)), name_(std::move(name)) {}
  void CollectUnknown(const toml::table& table, const std::string& path,
                      std::vector<std::string>& out) const;

  toml::table table_;
  std::string name_;
  std::vector<std::string> errors_;
  std::set<std::string> seen_;  // key paths read by the program
};

}  // namespace troad
