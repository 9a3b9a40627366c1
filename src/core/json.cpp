#include "core/json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "core/encoding.h"

namespace troad {

namespace {

// The deepest nesting of arrays and objects in `text`, counted outside strings.
// A linear scan: far cheaper than nlohmann's per-event parser callback, which used
// to cost more than the parse itself on the exchange path.
size_t NestingDepth(std::string_view text, size_t stop_above) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > stop_above) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

namespace {

// Where and why `text` is not JSON, as nlohmann's parser says it ("parse error at line
// 1, column 23: syntax error while parsing object key - unexpected end of input;
// expected string literal"), without exceptions. Run only on the error path.
std::string JsonSyntaxError(std::string_view text) {
  using Json = nlohmann::json;
  struct Sax : nlohmann::json_sax<Json> {
    std::string error = "malformed JSON";
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
      error = e.what();
      // "[json.exception.parse_error.101] parse error at …": the bracket is noise.
      if (size_t end = error.find("] ");
          error.starts_with("[json.exception") && end != std::string::npos) {
        error.erase(0, end + 2);
      }
      return false;
    }
  } sax;
  (void)Json::sax_parse(text, &sax);
  return EscapeForLog(sax.error, 300);
}

// simdjson's element as the nlohmann value nlohmann's own parser would have made:
// numbers that fit int64 and are not negative become number_unsigned, as there.
nlohmann::json FromSimdjson(simdjson::dom::element e) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::OBJECT: {
      nlohmann::json out = nlohmann::json::object();
      auto& members = out.get_ref<nlohmann::json::object_t&>();
      // A repeated key: the last one wins, as in nlohmann's parser.
      for (simdjson::dom::key_value_pair member : simdjson::dom::object(e)) {
        members[std::string(member.key)] = FromSimdjson(member.value);
      }
      return out;
    }
    case Type::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      auto& items = out.get_ref<nlohmann::json::array_t&>();
      simdjson::dom::array array(e);
      items.reserve(array.size());
      for (simdjson::dom::element item : array) items.push_back(FromSimdjson(item));
      return out;
    }
    case Type::STRING:
      return nlohmann::json(std::string(std::string_view(e)));
    case Type::INT64: {
      const int64_t v = int64_t(e);
      return v >= 0 ? nlohmann::json(static_cast<uint64_t>(v)) : nlohmann::json(v);
    }
    case Type::UINT64:
      return nlohmann::json(uint64_t(e));
    case Type::DOUBLE:
      return nlohmann::json(double(e));
    case Type::BOOL:
      return nlohmann::json(bool(e));
    case Type::NULL_VALUE:
      break;
  }
  return nlohmann::json(nullptr);
}

// The same document nlohmann's parser makes from `text`, made by simdjson (SIMD
// lexing; with the rebuild, 3.4× faster than nlohmann on a signature part and 7.5× on
// a ledger add-entries body: bench/json_bench, docs/performance.md). nullopt whenever simdjson refuses the text or the text has a
// \u escape: nlohmann then parses it, so what is accepted, the values of numbers
// simdjson does not represent (beyond 64 bits: nlohmann makes a double) and the error
// messages stay exactly nlohmann's. fuzz/fuzz_json checks that both agree.
std::optional<nlohmann::json> FastParse(std::string_view text) {
  if (text.find("\\u") != std::string_view::npos) return std::nullopt;
  // One parser per thread keeps its buffers between documents; a large document gets
  // its own, so that one big body does not pin megabytes to a thread for good.
  constexpr size_t kKeepBelow = 256 * 1024;
  thread_local simdjson::dom::parser reused;
  std::optional<simdjson::dom::parser> own;
  simdjson::dom::parser* parser = &reused;
  if (text.size() >= kKeepBelow) parser = &own.emplace();
  simdjson::dom::element root;
  if (parser->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root)) {
    return std::nullopt;
  }
  return FromSimdjson(root);
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, size_t max_depth) {
  if (NestingDepth(text, max_depth) > max_depth) {
    return Fail(ErrorCode::kInvalidArgument, "{}: JSON nested deeper than {}", what, max_depth);
  }
  if (std::optional<nlohmann::json> fast = FastParse(text)) return std::move(*fast);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Fail(ErrorCode::kInvalidArgument, "{}: malformed JSON: {}", what, JsonSyntaxError(text));
  }
  return doc;
}

void JsonErrors::Add(std::string path, std::string message) {
  if (first_.empty()) first_ = path.empty() ? message : path + ": " + message;
}

Status JsonErrors::ToStatus(std::string_view what) const {
  if (first_.empty()) return Ok();
  return Fail(ErrorCode::kInvalidArgument, "{}: {}", what, first_);
}

const nlohmann::json* JsonView::Get(const std::string& key, bool required) {
  if (node_ == nullptr) return nullptr;
  if (!node_->is_object()) {
    errors_->Add(path_, "expected an object");
    return nullptr;
  }
  auto it = node_->find(key);
  if (it == node_->end() || it->is_null()) {
    if (required) errors_->Add(Sub(key), "is required");
    return nullptr;
  }
  return &*it;
}

std::string JsonView::String(const std::string& key, bool required, size_t max_len) {
  const nlohmann::json* v = Get(key, required);
  if (v == nullptr) return {};
  if (!v->is_string()) {
    errors_->Add(Sub(key), "expected a string");
    return {};
  }
  const std::string& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    errors_->Add(Sub(key), fmt::format("longer than {} bytes", max_len));
    return {};
  }
  if (required && s.empty()) errors_->Add(Sub(key), "must not be empty");
  return s;
}

int64_t JsonView::Int(const std::string& key, bool required, int64_t def, int64_t min,
                      int64_t max) {
  const nlohmann::json* v = Get(key, required);
  if (v == nullptr) return def;
  if (!v->is_number_integer()) {
    errors_->Add(Sub(key), "expected an integer");
    return def;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    errors_->Add(Sub(key), fmt::format("is out of range [{}, {}]", min, max));
    return def;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    errors_->Add(Sub(key), fmt::format("{} is out of range [{}, {}]", n, min, max));
    return def;
  }
  return n;
}

bool JsonView::Bool(const std::string& key, bool def) {
  const nlohmann::json* v = Get(key, false);
  if (v == nullptr) return def;
  if (!v->is_boolean()) {
    errors_->Add(Sub(key), "expected true or false");
    return def;
  }
  return v->get<bool>();
}

JsonView JsonView::Object(const std::string& key, bool required) {
  const nlohmann::json* v = Get(key, required);
  if (v != nullptr && !v->is_object()) {
    errors_->Add(Sub(key), "expected an object");
    v = nullptr;
  }
  return JsonView(v, Sub(key), errors_);
}

std::vector<JsonView> JsonView::Array(const std::string& key, bool required) {
  std::vector<JsonView> out;
  const nlohmann::json* v = Get(key, required);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    errors_->Add(Sub(key), "expected an array");
    return out;
  }
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    out.emplace_back(&(*v)[i], fmt::format("{}[{}]", Sub(key), i), errors_);
  }
  return out;
}

std::vector<std::string> JsonView::StringArray(const std::string& key, bool required) {
  std::vector<std::string> out;
  for (JsonView& el : Array(key, required)) out.push_back(el.AsString());
  return out;
}

std::string JsonView::AsString() {
  if (node_ == nullptr || !node_->is_string()) {
    errors_->Add(path_, "expected a string");
    return {};
  }
  return node_->get<std::string>();
}

}  // namespace troad
