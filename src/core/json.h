// Reading JSON documents from outside (configuration, peers' messages) with errors
// that name the JSON path: "gateways[1].address: expected a string". nlohmann::json is
// parsed without exceptions; JsonView records the first error and returns defaults,
// so a reader can walk a whole document and report once.
//
// Thread-safety: a JsonView and its JsonErrors belong to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace troad {

// Parses `text`; kInvalidArgument with the byte offset on malformed JSON, or when
// nesting exceeds `max_depth`.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                 size_t max_depth = 64);

class JsonErrors {
 public:
  void Add(std::string path, std::string message);
  bool ok() const { return first_.empty(); }
  // The first error, as kInvalidArgument "<what>: <path>: <message>".
  Status ToStatus(std::string_view what) const;

 private:
  std::string first_;
};

class JsonView {
 public:
  JsonView(const nlohmann::json* node, std::string path, JsonErrors* errors)
      : node_(node), path_(std::move(path)), errors_(errors) {}

  std::string String(const std::string& key, bool required = true, size_t max_len = 1 << 20);
  int64_t Int(const std::string& key, bool required, int64_t def, int64_t min, int64_t max);
  bool Bool(const std::string& key, bool def);
  JsonView Object(const std::string& key, bool required = true);
  // Each element of an array (missing: empty unless required).
  std::vector<JsonView> Array(const std::string& key, bool required = false);
  std::vector<std::string> StringArray(const std::string& key, bool required = false);

  // This node as a string (for elements of string arrays).
  std::string AsString();
  const std::string& path() const { return path_; }
  void Error(const std::string& message) { errors_->Add(path_, message); }
  void Error(const std::string& key, const std::string& message) {
    errors_->Add(Sub(key), message);
  }
  bool present() const { return node_ != nullptr; }

 private:
  std::string Sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const nlohmann::json* Get(const std::string& key, bool required);

  const nlohmann::json* node_;
  std::string path_;
  JsonErrors* errors_;
};

}  // namespace troad
