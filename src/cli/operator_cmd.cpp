// The operator CLI over the central's management API (docs/central.md, "The operator
// CLI"). Each handler validates its options, makes one or a few calls with the
// session's token and prints a table or a summary of the answer (or, with --json, the
// answer itself).
#include "cli/operator_cmd.h"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/operator_client.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/net.h"
#include "crypto/password.h"
#include "crypto/x509.h"
#include "globalconf/anchor.h"

namespace troad::cli {

using json = nlohmann::json;

namespace {

// Every option of every operator command. Only one command is parsed per run, so
// commands share the fields their options have in common.
struct OperatorValues {
  std::string session;  // --session
  bool json = false;    // --json
  // login
  std::string anchor, url, ca_cert, user, password_file, current_password_file;
  // registry
  std::string id, name, name_en, address, description, type, disabled_notice, openapi_file;
  std::vector<std::string> clients, endpoints;
  bool no_clients = false, no_endpoints = false, drop_openapi = false;
  bool enable = false, disable = false;
  // grants and certificates
  std::string client, service, purpose, reason, status, owner;
  std::vector<std::string> rules;
  std::string target;  // the positional argument: an id, a fingerprint, a user name
  // administrators
  std::string role, member, display_name;
  // audit
  std::string from, to, actor, out;
};

class Command;
using Handler = Status (*)(Command&);

struct OperatorLeaf {
  CLI::App* app;
  std::string name;  // "member add", for messages
  Handler run;
};

// Which options a command needs, checked here rather than by CLI11 so that a usage
// error exits with 2 like every other input error (CLI11's own codes are 105-109).
struct OptionRules {
  std::vector<CLI::Option*> required;
  std::vector<std::pair<CLI::Option*, CLI::Option*>> exclusive;  // not both
  std::vector<std::pair<CLI::Option*, CLI::Option*>> needs;      // first only with second
};

}  // namespace

struct OperatorCommands {
  OperatorValues values;
  std::vector<OperatorLeaf> leaves;
  OptionRules rules;
};

namespace {

// An answer of the API: parsed, and as it came.
struct Reply {
  json doc;
  std::string body;
};

constexpr size_t kMaxName = 1000;
constexpr size_t kMaxText = 4000;
constexpr size_t kMaxDescription = 20'000;
constexpr size_t kMaxOpenApiBytes = 4 * 1024 * 1024;
// The audit export is one response; the API holds it in memory too.
constexpr size_t kMaxAuditExportBytes = 256 * 1024 * 1024;

// ---- text helpers ----

// `text` safe for a terminal: control characters (escape sequences) become spaces.
std::string Safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachUtf8(text, [&](std::string_view seq, uint32_t cp) {
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      out.push_back(' ');
    } else {
      out.append(seq);
    }
  });
  return out;
}

// The first line of `text`, cut to `max` display columns with an ellipsis.
std::string Cut(std::string_view text, size_t max) {
  text = text.substr(0, text.find('\n'));
  if (DisplayWidth(text) <= max) return std::string(text);
  std::string out;
  size_t width = 0;
  bool full = false;
  ForEachUtf8(text, [&](std::string_view seq, uint32_t) {
    if (full) return;
    const size_t w = DisplayWidth(seq);
    if (width + w + 1 > max) {
      full = true;
      return;
    }
    out.append(seq);
    width += w;
  });
  return out + "…";
}

bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool IsZeroWidth(uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0xFE00 && cp <= 0xFE0F);
}

// ---- reading the API's JSON defensively ----

std::string Str(const json& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

bool Bool(const json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

const json& Items(const json& d, const char* key) {
  static const json kEmpty = json::array();
  if (!d.is_object()) return kEmpty;
  auto it = d.find(key);
  return it != d.end() && it->is_array() ? *it : kEmpty;
}

std::string JoinEndpoints(const json& list, std::string_view if_empty) {
  std::string out;
  for (const json& e : list) {
    if (!out.empty()) out += ", ";
    out += Str(e, "method") + " " + Str(e, "path");
  }
  return out.empty() ? std::string(if_empty) : out;
}

std::string JoinStrings(const json& list) {
  std::string out;
  for (const json& e : list) {
    if (!out.empty()) out += ", ";
    out += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return out;
}

// Whether `id` is `member` or an id under it, compared as the API does.
bool Under(std::string_view id, std::string_view member) {
  return id == member ||
         (id.size() > member.size() && id.starts_with(member) && id[member.size()] == '/');
}

// Keeps the items of the listing `key` that `keep` accepts, in the parsed answer and in
// its text: --json then prints the API's objects, fewer of them, in the API's key order.
template <typename F>
void FilterList(Reply& r, const char* key, F&& keep) {
  auto ordered = nlohmann::ordered_json::parse(r.body, nullptr, false);
  const bool same_shape = ordered.is_object() && ordered.contains(key) && ordered[key].is_array() &&
                          ordered[key].size() == Items(r.doc, key).size();
  json kept = json::array();
  nlohmann::ordered_json kept_text = nlohmann::ordered_json::array();
  const json& items = Items(r.doc, key);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!keep(items[i])) continue;
    kept.push_back(items[i]);
    if (same_shape) kept_text.push_back(ordered[key][i]);
  }
  if (!r.doc.is_object()) r.doc = json::object();
  r.doc[key] = kept;
  if (!same_shape) ordered = nlohmann::ordered_json::object();
  ordered[key] = std::move(kept_text);
  r.body = ordered.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// ---- validation of option values ----

Status CheckMember(std::string_view what, std::string_view text) {
  auto id = ClientId::Parse(text);
  if (!id) return Fail(std::move(id).error().Context(what));
  if (id->is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: {} is a subsystem, not a member (INSTANCE/CLASS/CODE)", what,
                EscapeForLog(text));
  }
  return Ok();
}

Status CheckSubsystem(std::string_view what, std::string_view text) {
  auto id = ClientId::Parse(text);
  if (!id) return Fail(std::move(id).error().Context(what));
  if (!id->is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: {} is a member, not a subsystem (INSTANCE/CLASS/CODE/SUBSYSTEM)", what,
                EscapeForLog(text));
  }
  return Ok();
}

Status CheckGateway(std::string_view what, std::string_view text) {
  auto id = GatewayId::Parse(text);
  if (!id) return Fail(std::move(id).error().Context(what));
  return Ok();
}

Status CheckService(std::string_view what, std::string_view text) {
  auto id = ServiceId::Parse(text);
  if (!id) return Fail(std::move(id).error().Context(what));
  return Ok();
}

Status CheckAddress(std::string_view text) {
  auto hp = SplitHostPort(text);
  if (!hp) return Fail(std::move(hp).error().Context("--address"));
  if (hp->first.empty() || hp->second == 0) {
    return Fail(ErrorCode::kInvalidArgument, "--address: \"{}\" needs a host and a port 1-65535",
                EscapeForLog(text));
  }
  return Ok();
}

Status CheckUsername(std::string_view what, std::string_view name) {
  bool ok = name.size() >= 3 && name.size() <= 64;
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: \"{}\" is not a user name (3 to 64 of a-z, 0-9, '.', '_', '-')", what,
                EscapeForLog(name, 64));
  }
  return Ok();
}

Result<int64_t> PositiveId(std::string_view what, std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "{} \"{}\" is not a positive number", what,
                EscapeForLog(text, 64));
  }
  return v;
}

// A SHA-256 fingerprint as lower-case hex, from hex with or without colons.
Result<std::string> NormalizeFingerprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "\"{}\" is not a SHA-256 fingerprint (64 hex digits, as `troad cert list` "
                  "shows them)",
                  EscapeForLog(text, 100));
    }
    out.push_back(c);
  }
  if (out.size() != 64) {
    return Fail(ErrorCode::kInvalidArgument,
                "\"{}\" is not a SHA-256 fingerprint: {} hex digits instead of 64",
                EscapeForLog(text, 100), out.size());
  }
  return out;
}

// "2026-11-24T08:00:00Z" (any RFC 3339 time) or a day "2026-11-24" (00:00 UTC).
Result<SystemTime> ParseTimeOption(std::string_view what, std::string_view text) {
  std::string t(text);
  if (t.size() == 10 && t[4] == '-' && t[7] == '-') t += "T00:00:00Z";
  auto parsed = ParseRfc3339(t);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: \"{}\" is not a time (2026-11-24T08:00:00Z, or a day 2026-11-24)", what,
                EscapeForLog(text, 64));
  }
  return *parsed;
}

// A file the user named is input: a missing one is a usage error (exit 2), not a failure.
template <typename T>
Result<T> UserFile(Result<T> loaded) {
  if (!loaded && loaded.error().code() == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kInvalidArgument, "{}", loaded.error().message());
  }
  return loaded;
}

// ---- passwords ----

Result<std::string> FirstLine(std::string text, std::string_view where) {
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "{}: no password", where);
  return text;
}

Result<std::string> PromptHidden(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fprintf(stderr, "\n");
  if (!got) return Fail(ErrorCode::kInvalidArgument, "no password given");
  return FirstLine(line, "the terminal");
}

// A password from `file` ('-': the first line of standard input), else $`env`, else a
// prompt without echo when standard input is a terminal (twice when `confirm`).
Result<std::string> ReadSecret(const std::string& file, const char* option, const char* env,
                               const std::string& prompt, bool confirm) {
  if (file == "-") {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return Fail(ErrorCode::kInvalidArgument, "{} -: nothing on standard input", option);
    }
    return FirstLine(line, "standard input");
  }
  if (!file.empty()) {
    auto text = UserFile(ReadFile(file));
    if (!text) return Fail(std::move(text).error().Context(option));
    return FirstLine(*text, file);
  }
  if (const char* value = std::getenv(env); value != nullptr && *value != '\0') {
    return std::string(value);
  }
  if (isatty(STDIN_FILENO) == 1) {
    TROAD_ASSIGN_OR_RETURN(std::string first, PromptHidden(prompt));
    if (confirm) {
      TROAD_ASSIGN_OR_RETURN(std::string again, PromptHidden("again: "));
      if (again != first) return Fail(ErrorCode::kInvalidArgument, "the passwords differ");
    }
    return first;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "a password is needed: {} FILE ('-' for standard input), ${}, or run this on a "
              "terminal to be asked",
              option, env);
}

// ---- one run of one command ----

class Command {
 public:
  Command(std::string name, const OperatorValues& values, const CLI::App& app)
      : name_(std::move(name)), v_(values), app_(app) {}

  const std::string& name() const { return name_; }
  const OperatorValues& v() const { return v_; }
  // Whether option `flag` ("--address") was given on the command line.
  bool Given(const char* flag) const { return app_.count(flag) > 0; }

  int Report(const Error& e) const {
    std::fprintf(stderr, "troad %s: %s\n", name_.c_str(), Safe(e.message()).c_str());
    return ExitCodeFor(e);
  }

  Result<std::string> Path() const { return SessionPath(v_.session); }

  std::string LoginHint(std::string_view user) const {
    return fmt::format("troad login{} --user {}",
                       v_.session.empty() ? std::string() : " --session " + v_.session,
                       user.empty() ? std::string("NAME") : std::string(user));
  }

  // Loads the session and makes the client; kUnauthenticated with how to log in when
  // there is no session or it has ended.
  Status Open(size_t max_response_bytes = 16 * 1024 * 1024) {
    TROAD_ASSIGN_OR_RETURN(path_, Path());
    auto session = LoadSession(path_);
    if (!session && session.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kUnauthenticated,
                  "not logged in (no session file {}); log in first: troad login{} --anchor "
                  "anchor.json --user NAME",
                  path_, v_.session.empty() ? std::string() : " --session " + v_.session);
    }
    if (!session) {
      return Fail(ErrorCode::kUnauthenticated,
                  "{}; log in again: troad login{} --anchor anchor.json --user NAME",
                  session.error().message(),
                  v_.session.empty() ? std::string() : " --session " + v_.session);
    }
    session_ = std::move(*session);
    if (SystemClock::Get().Now() >= session_.expires_at) {
      return Fail(ErrorCode::kUnauthenticated, "the session of {} ended at {}; log in again: {}",
                  session_.username, FormatRfc3339(session_.expires_at),
                  LoginHint(session_.username));
    }
    TROAD_ASSIGN_OR_RETURN(
        client_,
        CentralClient::Create(session_.central_url, session_.ca_certificate, max_response_bytes));
    return Ok();
  }

  const OperatorSession& session() const { return session_; }
  const std::string& session_path() const { return path_; }
  bool is_operator() const { return session_.role == "operator"; }

  // A call with the session's token; any non-2xx answer becomes its Error (a 401 gets
  // how to log in again from WithHint, where the session is known).
  Result<std::string> Raw(std::string_view method, const std::string& target,
                          const std::optional<json>& body = std::nullopt) {
    TROAD_ASSIGN_OR_RETURN(ApiReply reply, client_->Send(method, target, body, session_.token));
    if (reply.status >= 200 && reply.status < 300) return std::move(reply.body);
    return Fail(ApiErrorOf(reply));
  }

  Result<Reply> Call(std::string_view method, const std::string& target,
                     const std::optional<json>& body = std::nullopt) {
    TROAD_ASSIGN_OR_RETURN(std::string text, Raw(method, target, body));
    auto doc = ParseJson(text, "the central's answer");
    if (!doc) return Fail(doc.error());
    return Reply{std::move(*doc), std::move(text)};
  }

  // --json: the answer as it came; otherwise `human`.
  template <typename F>
  void Print(const Reply& reply, F&& human) const {
    if (v_.json) {
      std::fwrite(reply.body.data(), 1, reply.body.size(), stdout);
      if (reply.body.empty() || reply.body.back() != '\n') std::fputc('\n', stdout);
    } else {
      human(reply.doc);
    }
  }

 private:
  std::string name_;
  const OperatorValues& v_;
  const CLI::App& app_;
  std::string path_;
  OperatorSession session_;
  std::unique_ptr<CentralClient> client_;
};

void Out(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

// Label/value lines, labels padded to one width.
void Summary(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [label, value] : lines) width = std::max(width, label.size());
  for (const auto& [label, value] : lines) {
    Out(fmt::format("{:<{}}  {}\n", label, width, Safe(value)));
  }
}

// A refused session's message with how to log in again. Not for login itself (no
// session loaded), whose 401 is a wrong password.
Status WithHint(Command& c, Status st) {
  if (st || st.error().code() != ErrorCode::kUnauthenticated || c.session().username.empty()) {
    return st;
  }
  std::string message = st.error().message();
  if (message.find("log in") == std::string::npos) {
    message += "; log in again: " + c.LoginHint(c.session().username);
  }
  return Fail(ErrorCode::kUnauthenticated, "{}", message);
}

// ---- login, logout ----

Status Login(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckUsername("--user", v.user));
  TROAD_ASSIGN_OR_RETURN(std::string path, c.Path());
  std::string url, ca_pem;
  auto previous = LoadSession(path);
  if (!v.anchor.empty()) {
    TROAD_ASSIGN_OR_RETURN(globalconf::Anchor anchor,
                           UserFile(globalconf::LoadAnchorFile(v.anchor)));
    url = anchor.central_url;
    ca_pem = anchor.ca_certificate.ToPem();
  } else if (!v.url.empty()) {
    auto normalized = globalconf::NormalizeCentralUrl(v.url);
    if (!normalized) return Fail(std::move(normalized).error().Context("--url"));
    url = *normalized;
    if (!v.ca_cert.empty()) {
      TROAD_ASSIGN_OR_RETURN(crypto::Certificate ca,
                             UserFile(crypto::Certificate::LoadPemFile(v.ca_cert)));
      ca_pem = ca.ToPem();
    } else if (previous && previous->central_url == url) {
      ca_pem = previous->ca_certificate;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "--url needs --ca-cert ca.pem (the CA of the central's TLS certificate)");
    }
  } else if (previous) {
    // Logging in again: the central and CA of the last session.
    url = previous->central_url;
    ca_pem = previous->ca_certificate;
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "which central? give --anchor anchor.json, or --url https://host:port and "
                "--ca-cert ca.pem");
  }
  TROAD_ASSIGN_OR_RETURN(std::string password,
                         ReadSecret(v.password_file, "--password-file", "TROAD_PASSWORD",
                                    fmt::format("password for {} at {}: ", v.user, url), false));
  TROAD_ASSIGN_OR_RETURN(auto client, CentralClient::Create(url, ca_pem));
  TROAD_ASSIGN_OR_RETURN(json answer,
                         client->Call("POST", "/api/v1/login",
                                      json{{"username", v.user}, {"password", password}}, ""));
  OperatorSession s;
  s.central_url = url;
  s.ca_certificate = ca_pem;
  s.token = Str(answer, "token");
  s.username = Str(answer, "username");
  s.role = Str(answer, "role");
  s.member = Str(answer, "member");
  auto expires = ParseRfc3339(Str(answer, "expires_at"));
  if (s.token.empty() || s.username.empty() || s.role.empty() || !expires) {
    return Fail(ErrorCode::kInternal,
                "the central's login answer lacks token, username, role or expires_at");
  }
  s.expires_at = *expires;
  TROAD_RETURN_IF_ERROR(SaveSession(path, s));
  Out(fmt::format("logged in to {} as {} ({}{})\n", url, Safe(s.username), s.role,
                  s.member.empty() ? std::string() : " of " + Safe(s.member)));
  Out(
      fmt::format("the session lasts until {} at most (less when unused for the central's "
                  "session_idle_minutes)\n",
                  ShortTime(FormatRfc3339(s.expires_at))));
  Out(fmt::format("session file: {}\n", path));
  return Ok();
}

Status Logout(Command& c) {
  TROAD_ASSIGN_OR_RETURN(std::string path, c.Path());
  auto remove = [&]() -> Status {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot remove {}: {}", path, ec.message());
    return Ok();
  };
  auto opened = c.Open();
  if (!opened) {
    if (!std::filesystem::exists(path)) return Fail(opened.error());
    // An ended session: nothing to end on the central.
    TROAD_RETURN_IF_ERROR(remove());
    Out(fmt::format("the session had already ended; removed {}\n", path));
    return Ok();
  }
  auto answer = c.Raw("POST", "/api/v1/logout", json::object());
  if (!answer && answer.error().code() != ErrorCode::kUnauthenticated) {
    return Fail(std::move(answer).error().Context(
        fmt::format("the session file {} is kept so that you can try again", path)));
  }
  TROAD_RETURN_IF_ERROR(remove());
  Out(fmt::format("logged out of {}; removed {}\n", c.session().central_url, path));
  return Ok();
}

// ---- members and subsystems ----

Status MemberList(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/members"));
  c.Print(r, [](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& m : Items(d, "members")) {
      rows.push_back(
          {Str(m, "id"), Str(m, "name"), Str(m, "name_en"), ShortTime(Str(m, "created_at"))});
    }
    Out(RenderTable({"ID", "NAME", "NAME (EN)", "REGISTERED"}, rows));
  });
  return Ok();
}

Status MemberAdd(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckMember("--id", v.id));
  TROAD_RETURN_IF_ERROR(CheckText("--name", v.name, kMaxName, true, false));
  TROAD_RETURN_IF_ERROR(CheckText("--name-en", v.name_en, kMaxName, false, false));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", "/api/v1/members",
                                json{{"id", v.id}, {"name", v.name}, {"name_en", v.name_en}}));
  c.Print(r, [&](const json&) { Out(fmt::format("member {} ({}) added\n", v.id, Safe(v.name))); });
  return Ok();
}

Status MemberShow(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckMember("member", v.target));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply members, c.Call("GET", "/api/v1/members"));
  const json* member = nullptr;
  for (const json& m : Items(members.doc, "members")) {
    if (Str(m, "id") == v.target) member = &m;
  }
  if (member == nullptr) {
    return Fail(ErrorCode::kNotFound, "member {} is not registered (or not visible to {})",
                v.target, c.session().username);
  }
  if (v.json) {
    // The API's object, in the API's key order.
    auto ordered = nlohmann::ordered_json::parse(members.body, nullptr, false);
    if (ordered.is_object() && ordered.contains("members") && ordered["members"].is_array()) {
      for (const auto& m : ordered["members"]) {
        if (m.is_object() && m.value("id", "") == v.target) {
          Out(m.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
        }
      }
    }
    return Ok();
  }
  TROAD_ASSIGN_OR_RETURN(Reply subsystems, c.Call("GET", "/api/v1/subsystems"));
  TROAD_ASSIGN_OR_RETURN(Reply gateways, c.Call("GET", "/api/v1/gateways"));
  TROAD_ASSIGN_OR_RETURN(Reply services, c.Call("GET", "/api/v1/services"));
  std::vector<std::pair<std::string, std::string>> lines = {
      {"member", v.target},
      {"name", Str(*member, "name")},
      {"name (en)", Str(*member, "name_en")},
      {"registered", ShortTime(Str(*member, "created_at"))}};
  auto add = [&](const char* label, const json& list, auto describe) {
    bool any = false;
    for (const json& item : list) {
      if (!Under(Str(item, "id"), v.target)) continue;
      lines.emplace_back(any ? "" : label, describe(item));
      any = true;
    }
    if (!any) lines.emplace_back(label, "(none)");
  };
  add("subsystems", Items(subsystems.doc, "subsystems"),
      [](const json& s) { return Str(s, "id") + "  " + Str(s, "name"); });
  add("gateways", Items(gateways.doc, "gateways"),
      [](const json& g) { return Str(g, "id") + "  at " + Str(g, "address"); });
  add("services", Items(services.doc, "services"),
      [](const json& s) { return Str(s, "id") + (Bool(s, "enabled") ? "" : "  (disabled)"); });
  Summary(lines);
  return Ok();
}

Status SubsystemList(Command& c) {
  const OperatorValues& v = c.v();
  if (!v.member.empty()) TROAD_RETURN_IF_ERROR(CheckMember("--member", v.member));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/subsystems"));
  if (!v.member.empty()) {
    FilterList(r, "subsystems", [&](const json& s) { return Under(Str(s, "id"), v.member); });
  }
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& s : Items(d, "subsystems")) {
      rows.push_back({Str(s, "id"), Str(s, "name"), ShortTime(Str(s, "created_at"))});
    }
    Out(RenderTable({"ID", "NAME", "REGISTERED"}, rows));
  });
  return Ok();
}

Status SubsystemAdd(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckSubsystem("--id", v.id));
  TROAD_RETURN_IF_ERROR(CheckText("--name", v.name, kMaxName, true, false));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(
      Reply r, c.Call("POST", "/api/v1/subsystems", json{{"id", v.id}, {"name", v.name}}));
  c.Print(r,
          [&](const json&) { Out(fmt::format("subsystem {} ({}) added\n", v.id, Safe(v.name))); });
  return Ok();
}

// ---- gateways ----

Status GatewayList(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/gateways"));
  c.Print(r, [](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& g : Items(d, "gateways")) {
      rows.push_back({Str(g, "id"), Str(g, "address"), JoinStrings(Items(g, "clients")),
                      ShortTime(Str(g, "created_at"))});
    }
    Out(RenderTable({"ID", "ADDRESS", "CLIENTS", "REGISTERED"}, rows));
  });
  return Ok();
}

Status CheckClients(const std::vector<std::string>& clients) {
  for (const std::string& client : clients)
    TROAD_RETURN_IF_ERROR(CheckSubsystem("--client", client));
  return Ok();
}

Status GatewayRegister(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGateway("--id", v.id));
  TROAD_RETURN_IF_ERROR(CheckAddress(v.address));
  TROAD_RETURN_IF_ERROR(CheckClients(v.clients));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(
      Reply r, c.Call("POST", "/api/v1/gateways",
                      json{{"id", v.id}, {"address", v.address}, {"clients", v.clients}}));
  c.Print(r, [&](const json&) {
    Out(fmt::format("gateway {} registered at {}\n", v.id, v.address));
    Out(fmt::format("next: troad gateway code {}  (a one-time enrollment code for it)\n", v.id));
  });
  return Ok();
}

Status GatewayUpdate(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGateway("--id", v.id));
  if (c.Given("--address")) TROAD_RETURN_IF_ERROR(CheckAddress(v.address));
  TROAD_RETURN_IF_ERROR(CheckClients(v.clients));
  if (!c.Given("--address") && v.clients.empty() && !v.no_clients) {
    return Fail(ErrorCode::kInvalidArgument,
                "nothing to change: give --address, --client (repeatable) or --no-clients");
  }
  TROAD_RETURN_IF_ERROR(c.Open());
  // The API replaces address and clients together; what is not given stays as it is.
  TROAD_ASSIGN_OR_RETURN(Reply listed, c.Call("GET", "/api/v1/gateways"));
  const json* current = nullptr;
  for (const json& g : Items(listed.doc, "gateways")) {
    if (Str(g, "id") == v.id) current = &g;
  }
  if (current == nullptr) {
    return Fail(ErrorCode::kNotFound, "gateway {} is not registered (or not visible to {})", v.id,
                c.session().username);
  }
  json clients = json::array();
  if (!v.clients.empty()) {
    clients = v.clients;
  } else if (!v.no_clients) {
    clients = Items(*current, "clients");
  }
  const std::string address = c.Given("--address") ? v.address : Str(*current, "address");
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", "/api/v1/gateways/update",
                                json{{"id", v.id}, {"address", address}, {"clients", clients}}));
  c.Print(r, [&](const json&) {
    Out(fmt::format("gateway {} updated: at {}, serving {}\n", v.id, Safe(address),
                    clients.empty() ? std::string("no subsystems") : Safe(JoinStrings(clients))));
  });
  return Ok();
}

Status GatewayCode(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGateway("gateway", v.target));
  if (!v.out.empty()) {
    const auto dir = std::filesystem::absolute(v.out).parent_path();
    if (!std::filesystem::is_directory(dir)) {
      return Fail(ErrorCode::kInvalidArgument, "--out: {} is not a directory", dir.string());
    }
  }
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(
      Reply r, c.Call("POST", "/api/v1/gateways/enrollment-codes", json{{"gateway", v.target}}));
  const std::string code = Str(r.doc, "code");
  if (code.empty()) return Fail(ErrorCode::kInternal, "the central's answer has no code");
  if (!v.out.empty()) {
    if (auto st = WriteFileAtomically(v.out, code + "\n", 0600); !st) {
      // The central shows a code once: not lost with the file.
      Out(fmt::format("enrollment code for {}:\n  {}\n", v.target, Safe(code)));
      return st;
    }
  }
  c.Print(r, [&](const json&) {
    if (v.out.empty()) {
      Out(fmt::format("enrollment code for {} (shown only this once):\n  {}\n", v.target,
                      Safe(code)));
    } else {
      Out(fmt::format("enrollment code for {} written to {} (mode 0600)\n", v.target, v.out));
    }
    Out(
        fmt::format("on the gateway's host: troad gateway enroll --anchor anchor.json --gateway {} "
                    "--code-file {} --dir DIR\n",
                    v.target, v.out.empty() ? "FILE" : v.out));
  });
  return Ok();
}

// ---- services ----

Status ServiceList(Command& c) {
  const OperatorValues& v = c.v();
  if (!v.member.empty()) TROAD_RETURN_IF_ERROR(CheckMember("--member", v.member));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/services"));
  if (!v.member.empty()) {
    FilterList(r, "services", [&](const json& s) { return Under(Str(s, "id"), v.member); });
  }
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& s : Items(d, "services")) {
      rows.push_back({Str(s, "id"), Str(s, "type"), Bool(s, "enabled") ? "enabled" : "disabled",
                      JoinEndpoints(Items(s, "endpoints"), "(any)"),
                      Cut(Str(s, "description"), 40)});
    }
    Out(RenderTable({"ID", "TYPE", "STATE", "ENDPOINTS", "DESCRIPTION"}, rows));
  });
  return Ok();
}

Result<json> EndpointsJson(const std::vector<std::string>& texts, const char* option) {
  json out = json::array();
  for (const std::string& t : texts) {
    auto e = ParseEndpointRule(t);
    if (!e) return Fail(std::move(e).error().Context(option));
    out.push_back({{"method", e->method}, {"path", e->path}});
  }
  return out;
}

Result<json> OpenApiJson(const std::string& file) {
  TROAD_ASSIGN_OR_RETURN(std::string text, UserFile(ReadFile(file)));
  if (text.size() > kMaxOpenApiBytes) {
    return Fail(ErrorCode::kInvalidArgument, "--openapi {}: larger than {} bytes", file,
                kMaxOpenApiBytes);
  }
  auto doc = ParseJson(text, file);
  if (!doc) return Fail(std::move(doc).error().Context("--openapi"));
  if (!doc->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "--openapi {}: not a JSON object", file);
  }
  return std::move(*doc);
}

Status CheckServiceText(const OperatorValues& v) {
  if (!v.type.empty() && v.type != "REST" && v.type != "OPENAPI") {
    return Fail(ErrorCode::kInvalidArgument, "--type: \"{}\" is not REST or OPENAPI",
                EscapeForLog(v.type, 40));
  }
  TROAD_RETURN_IF_ERROR(CheckText("--description", v.description, kMaxDescription, false, true));
  TROAD_RETURN_IF_ERROR(CheckText("--disabled-notice", v.disabled_notice, 2000, false, true));
  return Ok();
}

Status ServiceAdd(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckService("--id", v.id));
  TROAD_RETURN_IF_ERROR(CheckServiceText(v));
  TROAD_ASSIGN_OR_RETURN(json endpoints, EndpointsJson(v.endpoints, "--endpoint"));
  json body = {{"id", v.id},
               {"type", v.type.empty() ? "REST" : v.type},
               {"description", v.description},
               {"enabled", !v.disable},
               {"disabled_notice", v.disabled_notice},
               {"endpoints", endpoints}};
  if (!v.openapi_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(body["openapi"], OpenApiJson(v.openapi_file));
  }
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", "/api/v1/services", body));
  c.Print(r, [&](const json&) {
    Out(fmt::format("service {} added{}: {}\n", v.id, v.disable ? " (disabled)" : "",
                    Safe(JoinEndpoints(endpoints, "any endpoint"))));
  });
  return Ok();
}

Status ServiceUpdate(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckService("--id", v.id));
  TROAD_RETURN_IF_ERROR(CheckServiceText(v));
  TROAD_ASSIGN_OR_RETURN(json endpoints, EndpointsJson(v.endpoints, "--endpoint"));
  std::optional<json> openapi;
  if (!v.openapi_file.empty()) {
    TROAD_ASSIGN_OR_RETURN(openapi, OpenApiJson(v.openapi_file));
  }
  TROAD_RETURN_IF_ERROR(c.Open());
  // The API replaces the whole service; what is not given stays as it is.
  TROAD_ASSIGN_OR_RETURN(Reply listed, c.Call("GET", "/api/v1/services"));
  const json* current = nullptr;
  for (const json& s : Items(listed.doc, "services")) {
    if (Str(s, "id") == v.id) current = &s;
  }
  if (current == nullptr) {
    return Fail(ErrorCode::kNotFound, "service {} is not registered (or not visible to {})", v.id,
                c.session().username);
  }
  if (Bool(*current, "has_openapi") && !openapi && !v.drop_openapi) {
    // The listing does not return the document, and an update without it drops it.
    return Fail(ErrorCode::kInvalidArgument,
                "service {} has an OpenAPI description, which an update replaces and the API "
                "does not return: give it again with --openapi FILE, or --drop-openapi",
                v.id);
  }
  json body = {
      {"id", v.id},
      {"type", c.Given("--type") ? v.type : Str(*current, "type")},
      {"description", c.Given("--description") ? v.description : Str(*current, "description")},
      {"enabled", v.enable    ? true
                  : v.disable ? false
                              : Bool(*current, "enabled")},
      {"disabled_notice",
       c.Given("--disabled-notice") ? v.disabled_notice : Str(*current, "disabled_notice")},
      {"endpoints", !v.endpoints.empty() ? endpoints
                    : v.no_endpoints     ? json::array()
                                         : Items(*current, "endpoints")}};
  if (openapi) body["openapi"] = std::move(*openapi);
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", "/api/v1/services/update", body));
  c.Print(r, [&](const json&) {
    Out(fmt::format("service {} updated: {}, {}\n", v.id,
                    body["enabled"].get<bool>() ? "enabled" : "disabled",
                    Safe(JoinEndpoints(body["endpoints"], "any endpoint"))));
  });
  return Ok();
}

// ---- certificates ----

Status CheckStatusFilter(const std::string& status, std::initializer_list<std::string_view> ok) {
  if (status.empty()) return Ok();
  for (std::string_view s : ok) {
    if (status == s) return Ok();
  }
  std::string list;
  for (std::string_view s : ok) list += (list.empty() ? "" : ", ") + std::string(s);
  return Fail(ErrorCode::kInvalidArgument, "--status: \"{}\" is not one of {}",
              EscapeForLog(status, 40), list);
}

Status CertRequests(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckStatusFilter(v.status, {"pending", "approved", "rejected"}));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/certificate-requests"));
  if (!v.status.empty()) {
    FilterList(r, "certificate_requests",
               [&](const json& q) { return Str(q, "status") == v.status; });
  }
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& q : Items(d, "certificate_requests")) {
      rows.push_back({Str(q, "id"), Str(q, "kind"), Str(q, "owner"), Str(q, "status"),
                      ShortTime(Str(q, "submitted_at")), Str(q, "submitted_by")});
    }
    Out(RenderTable({"ID", "KIND", "OWNER", "STATUS", "SUBMITTED", "BY"}, rows));
  });
  return Ok();
}

Status CertDecide(Command& c, bool approve) {
  const OperatorValues& v = c.v();
  TROAD_ASSIGN_OR_RETURN(int64_t id, PositiveId("certificate request id", v.target));
  TROAD_RETURN_IF_ERROR(CheckText("--reason", v.reason, kMaxText, !approve, true));
  TROAD_RETURN_IF_ERROR(c.Open());
  json body = json::object();
  if (!v.reason.empty()) body["reason"] = v.reason;
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST",
                                         fmt::format("/api/v1/certificate-requests/{}/{}", id,
                                                     approve ? "approve" : "reject"),
                                         body));
  c.Print(r, [&](const json& d) {
    if (approve) {
      Out(fmt::format("certificate request {} approved: {} certificate for {}\n", id,
                      Safe(Str(d, "kind")), Safe(Str(d, "owner"))));
      Summary(
          {{"fingerprint", Str(d, "fingerprint")},
           {"serial", Str(d, "serial")},
           {"valid", ShortTime(Str(d, "not_before")) + " to " + ShortTime(Str(d, "not_after"))}});
    } else {
      Out(fmt::format("certificate request {} rejected: {}\n", id, Safe(v.reason)));
    }
  });
  return Ok();
}
Status CertApprove(Command& c) { return CertDecide(c, true); }
Status CertReject(Command& c) { return CertDecide(c, false); }

Status CertList(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/certificates"));
  if (!v.owner.empty()) {
    FilterList(r, "certificates",
               [&](const json& cert) { return Under(Str(cert, "owner"), v.owner); });
  }
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& cert : Items(d, "certificates")) {
      const std::string revoked = Str(cert, "revoked_at");
      rows.push_back({Str(cert, "fingerprint"), Str(cert, "kind"), Str(cert, "owner"),
                      ShortTime(Str(cert, "not_after")),
                      revoked.empty() ? "valid" : "revoked " + ShortTime(revoked)});
    }
    Out(RenderTable({"FINGERPRINT", "KIND", "OWNER", "NOT AFTER", "STATE"}, rows));
  });
  return Ok();
}

Status CertRevoke(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_ASSIGN_OR_RETURN(std::string fingerprint, NormalizeFingerprint(v.target));
  TROAD_RETURN_IF_ERROR(CheckText("--reason", v.reason, kMaxText, true, true));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", fmt::format("/api/v1/certificates/{}/revoke", fingerprint),
                                json{{"reason", v.reason}}));
  c.Print(r, [&](const json&) {
    Out(
        fmt::format("certificate {} revoked; gateways refuse it after their next configuration "
                    "refresh\n",
                    fingerprint));
  });
  return Ok();
}

// ---- access applications and grants ----

Status GrantList(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(
      CheckStatusFilter(v.status, {"pending", "approved", "rejected", "withdrawn"}));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/applications"));
  if (!v.status.empty()) {
    FilterList(r, "applications", [&](const json& a) { return Str(a, "status") == v.status; });
  }
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& a : Items(d, "applications")) {
      rows.push_back({Str(a, "id"), Str(a, "client"), Str(a, "service"), Str(a, "status"),
                      JoinEndpoints(Items(a, "rules"), "(whole service)"),
                      Cut(Str(a, "purpose"), 40)});
    }
    Out(RenderTable({"ID", "CLIENT", "SERVICE", "STATUS", "RULES", "PURPOSE"}, rows));
  });
  return Ok();
}

Status GrantApply(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckSubsystem("--client", v.client));
  TROAD_RETURN_IF_ERROR(CheckService("--service", v.service));
  TROAD_RETURN_IF_ERROR(CheckText("--purpose", v.purpose, kMaxText, true, true));
  TROAD_ASSIGN_OR_RETURN(json rules, EndpointsJson(v.rules, "--rule"));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", "/api/v1/applications",
                                         json{{"client", v.client},
                                              {"service", v.service},
                                              {"rules", rules},
                                              {"purpose", v.purpose}}));
  c.Print(r, [&](const json& d) {
    const std::string id = Str(d, "id");
    Out(fmt::format("application {} submitted: {} → {} ({}), {}\n", id, v.client, v.service,
                    Safe(JoinEndpoints(rules, "whole service")), Safe(Str(d, "status"))));
    Out(
        fmt::format("the provider's administrator decides: troad grant approve {}  (or reject {} "
                    "--reason …)\n",
                    id, id));
  });
  return Ok();
}

Status GrantAct(Command& c, std::string_view verb) {
  const OperatorValues& v = c.v();
  TROAD_ASSIGN_OR_RETURN(int64_t id, PositiveId("application id", v.target));
  TROAD_RETURN_IF_ERROR(CheckText("--reason", v.reason, kMaxText, verb != "approve", true));
  TROAD_RETURN_IF_ERROR(c.Open());
  json body = json::object();
  if (!v.reason.empty()) body["reason"] = v.reason;
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", fmt::format("/api/v1/applications/{}/{}", id, verb), body));
  c.Print(r, [&](const json& d) {
    const std::string client = Safe(Str(d, "client")), service = Safe(Str(d, "service"));
    if (verb == "approve") {
      Out(fmt::format("application {} approved: {} may call {} ({})\n", id, client, service,
                      Safe(JoinEndpoints(Items(d, "rules"), "whole service"))));
      Out("gateways enforce it after their next configuration refresh\n");
    } else if (verb == "reject") {
      Out(fmt::format("application {} rejected: {} → {}\n", id, client, service));
    } else {
      Out(fmt::format("application {} withdrawn: {} no longer may call {}\n", id, client, service));
    }
  });
  return Ok();
}
Status GrantApprove(Command& c) { return GrantAct(c, "approve"); }
Status GrantReject(Command& c) { return GrantAct(c, "reject"); }
Status GrantWithdraw(Command& c) { return GrantAct(c, "withdraw"); }

// ---- global groups and grants to them ----

Status CheckGroupCode(std::string_view text) {
  if (auto st = ValidateIdPart(text, "group code"); !st) {
    return Fail(std::move(st).error().Context("--code"));
  }
  return Ok();
}

Status CheckSubsystems(std::string_view what, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) TROAD_RETURN_IF_ERROR(CheckSubsystem(what, id));
  return Ok();
}

Status GroupList(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/groups"));
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& g : Items(d, "groups")) {
      rows.push_back({Str(g, "code"), Cut(Str(g, "description"), 30),
                      std::to_string(Items(g, "members").size()),
                      Cut(JoinStrings(Items(g, "members")), 60)});
    }
    Out(RenderTable({"CODE", "DESCRIPTION", "MEMBERS", "SUBSYSTEMS"}, rows));
  });
  return Ok();
}

Status GroupSave(Command& c, bool create) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGroupCode(v.id));
  TROAD_RETURN_IF_ERROR(CheckText("--description", v.description, kMaxDescription, true, false));
  TROAD_RETURN_IF_ERROR(CheckText("--description-en", v.name_en, kMaxDescription, false, false));
  TROAD_RETURN_IF_ERROR(CheckSubsystems("--member", v.clients));
  TROAD_RETURN_IF_ERROR(c.Open());
  json body = {{"code", v.id}, {"description", v.description}, {"description_en", v.name_en}};
  if (create) body["members"] = v.clients;
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", create ? "/api/v1/groups" : "/api/v1/groups/update", body));
  c.Print(r, [&](const json& d) {
    Out(fmt::format("global group {} {} ({} subsystems)\n", Safe(Str(d, "code")),
                    create ? "created" : "updated", Items(d, "members").size()));
  });
  return Ok();
}
Status GroupAdd(Command& c) { return GroupSave(c, true); }
Status GroupUpdate(Command& c) { return GroupSave(c, false); }

Status GroupDelete(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGroupCode(v.id));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", "/api/v1/groups/delete", json{{"code", v.id}}));
  c.Print(r, [&](const json&) { Out(fmt::format("global group {} deleted\n", v.id)); });
  return Ok();
}

Status GroupMembers(Command& c, std::string_view verb) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGroupCode(v.id));
  if (v.clients.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "--member: name at least one subsystem");
  }
  TROAD_RETURN_IF_ERROR(CheckSubsystems("--member", v.clients));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", fmt::format("/api/v1/groups/members/{}", verb),
                                         json{{"group", v.id}, {"members", v.clients}}));
  c.Print(r, [&](const json& d) {
    Out(fmt::format("global group {}: {}; members now: {}\n", v.id,
                    verb == "add" ? "added" : "removed", Safe(JoinStrings(Items(d, "members")))));
    Out("gateways follow after their next configuration refresh\n");
  });
  return Ok();
}
Status GroupAddMember(Command& c) { return GroupMembers(c, "add"); }
Status GroupRemoveMember(Command& c) { return GroupMembers(c, "remove"); }

Status GroupGrants(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/groups/grants"));
  c.Print(r, [&](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& g : Items(d, "grants")) {
      rows.push_back({Str(g, "id"), Str(g, "group"), Str(g, "service"),
                      Bool(g, "in_force") ? "in force" : "withdrawn",
                      JoinEndpoints(Items(g, "rules"), "(whole service)"),
                      Cut(Str(g, "reason"), 40)});
    }
    Out(RenderTable({"ID", "GROUP", "SERVICE", "STATE", "RULES", "REASON"}, rows));
  });
  return Ok();
}

Status GroupGrant(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckGroupCode(v.id));
  TROAD_RETURN_IF_ERROR(CheckService("--service", v.service));
  TROAD_RETURN_IF_ERROR(CheckText("--reason", v.reason, kMaxText, true, true));
  TROAD_ASSIGN_OR_RETURN(json rules, EndpointsJson(v.rules, "--rule"));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(
      Reply r,
      c.Call(
          "POST", "/api/v1/groups/grants",
          json{{"group", v.id}, {"service", v.service}, {"rules", rules}, {"reason", v.reason}}));
  c.Print(r, [&](const json& d) {
    Out(fmt::format("grant {}: every subsystem of group {} may call {} ({})\n", Str(d, "id"), v.id,
                    v.service, Safe(JoinEndpoints(rules, "whole service"))));
    Out("gateways enforce it after their next configuration refresh\n");
  });
  return Ok();
}

Status GroupWithdraw(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_ASSIGN_OR_RETURN(int64_t id, PositiveId("group grant id", v.target));
  TROAD_RETURN_IF_ERROR(CheckText("--reason", v.reason, kMaxText, true, true));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST", fmt::format("/api/v1/groups/grants/{}/withdraw", id),
                                json{{"reason", v.reason}}));
  c.Print(r, [&](const json& d) {
    Out(fmt::format("grant {} withdrawn: group {} no longer may call {}\n", id,
                    Safe(Str(d, "group")), Safe(Str(d, "service"))));
  });
  return Ok();
}

// ---- administrators ----

Status AdminList(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/admins"));
  c.Print(r, [](const json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const json& a : Items(d, "admins")) {
      rows.push_back({Str(a, "username"), Str(a, "role"), Str(a, "member"), Str(a, "display_name"),
                      Bool(a, "disabled") ? "disabled" : "enabled"});
    }
    Out(RenderTable({"USER", "ROLE", "MEMBER", "NAME", "STATE"}, rows));
  });
  return Ok();
}

Result<std::string> NewPassword(const OperatorValues& v, const std::string& user) {
  TROAD_ASSIGN_OR_RETURN(std::string password,
                         ReadSecret(v.password_file, "--password-file", "TROAD_NEW_PASSWORD",
                                    fmt::format("new password for {}: ", user), true));
  auto policy = crypto::CheckPasswordPolicy(password);
  if (!policy) return Fail(std::move(policy).error().Context("the new password"));
  return password;
}

Status AdminAdd(Command& c) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckUsername("--user", v.user));
  if (v.role != "operator" && v.role != "member-admin") {
    return Fail(ErrorCode::kInvalidArgument, "--role: \"{}\" is not operator or member-admin",
                EscapeForLog(v.role, 40));
  }
  TROAD_RETURN_IF_ERROR(CheckText("--display-name", v.display_name, 200, false, false));
  if (v.role == "operator" && !v.member.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "--member is for a member-admin; an operator acts for every member");
  }
  if (!v.member.empty()) TROAD_RETURN_IF_ERROR(CheckMember("--member", v.member));
  TROAD_RETURN_IF_ERROR(c.Open());
  std::string member = v.member;
  if (v.role == "member-admin" && member.empty()) {
    if (c.is_operator()) {
      return Fail(ErrorCode::kInvalidArgument, "a member-admin needs --member INSTANCE/CLASS/CODE");
    }
    member = c.session().member;  // a member administrator adds one of its own member
  }
  TROAD_ASSIGN_OR_RETURN(std::string password, NewPassword(v, v.user));
  json body = {{"username", v.user}, {"password", password}, {"role", v.role}};
  if (!member.empty()) body["member"] = member;
  if (!v.display_name.empty()) body["display_name"] = v.display_name;
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("POST", "/api/v1/admins", body));
  c.Print(r, [&](const json& d) {
    Out(fmt::format("administrator {} added ({}{})\n", Safe(Str(d, "username")),
                    Safe(Str(d, "role")),
                    Str(d, "member").empty() ? std::string() : " of " + Safe(Str(d, "member"))));
  });
  return Ok();
}

Status AdminSetDisabled(Command& c, bool disable) {
  const OperatorValues& v = c.v();
  TROAD_RETURN_IF_ERROR(CheckUsername("user", v.target));
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r,
                         c.Call("POST",
                                fmt::format("/api/v1/admins/{}/{}", PercentEncode(v.target),
                                            disable ? "disable" : "enable"),
                                json::object()));
  c.Print(r, [&](const json&) {
    Out(fmt::format("administrator {} {}\n", v.target,
                    disable ? "disabled; their sessions have ended" : "enabled"));
  });
  return Ok();
}
Status AdminDisable(Command& c) { return AdminSetDisabled(c, true); }
Status AdminEnable(Command& c) { return AdminSetDisabled(c, false); }

Status AdminPassword(Command& c) {
  const OperatorValues& v = c.v();
  if (!v.target.empty()) TROAD_RETURN_IF_ERROR(CheckUsername("user", v.target));
  if (v.password_file == "-" && v.current_password_file == "-") {
    return Fail(ErrorCode::kInvalidArgument,
                "only one of --password-file and --current-password-file can be '-'");
  }
  TROAD_RETURN_IF_ERROR(c.Open());
  const std::string user = v.target.empty() ? c.session().username : v.target;
  const bool own = user == c.session().username;
  json body = json::object();
  if (own) {
    TROAD_ASSIGN_OR_RETURN(std::string current,
                           ReadSecret(v.current_password_file, "--current-password-file",
                                      "TROAD_PASSWORD", "current password: ", false));
    body["current_password"] = current;
  }
  TROAD_ASSIGN_OR_RETURN(body["password"], NewPassword(v, user));
  auto changed =
      c.Call("POST", fmt::format("/api/v1/admins/{}/password", PercentEncode(user)), body);
  if (!changed && changed.error().code() == ErrorCode::kUnauthenticated &&
      changed.error().message().find("current password") != std::string::npos) {
    // Not the session: the current password given was wrong (no "log in again").
    return Fail(ErrorCode::kPermissionDenied, "{}", changed.error().message());
  }
  TROAD_ASSIGN_OR_RETURN(Reply r, std::move(changed));
  if (own) {
    // A changed password ends the account's sessions, this one included.
    std::error_code ec;
    std::filesystem::remove(c.session_path(), ec);
  }
  c.Print(r, [&](const json&) {
    if (own) {
      Out(fmt::format("password of {} changed; its sessions have ended: {}\n", user,
                      c.LoginHint(user)));
    } else {
      Out(fmt::format("password of {} changed; their sessions have ended\n", user));
    }
  });
  return Ok();
}

// ---- audit log, global configuration ----

Status AuditExport(Command& c) {
  const OperatorValues& v = c.v();
  std::string query;
  auto add = [&](const char* key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + PercentEncode(value);
  };
  std::optional<SystemTime> from, to;
  if (!v.from.empty()) {
    TROAD_ASSIGN_OR_RETURN(from, ParseTimeOption("--from", v.from));
    add("from", FormatRfc3339(*from));
  }
  if (!v.to.empty()) {
    TROAD_ASSIGN_OR_RETURN(to, ParseTimeOption("--to", v.to));
    add("to", FormatRfc3339(*to));
  }
  if (from && to && *to <= *from) {
    return Fail(ErrorCode::kInvalidArgument, "--to must be after --from");
  }
  if (!v.member.empty()) {
    TROAD_RETURN_IF_ERROR(CheckMember("--member", v.member));
    add("member", v.member);
  }
  if (!v.actor.empty()) {
    TROAD_RETURN_IF_ERROR(CheckText("--actor", v.actor, 200, true, false));
    add("actor", v.actor);
  }
  TROAD_RETURN_IF_ERROR(c.Open(kMaxAuditExportBytes));
  TROAD_ASSIGN_OR_RETURN(std::string lines, c.Raw("GET", "/api/v1/audit/export" + query));
  if (v.out.empty() || v.out == "-") {
    Out(lines);
    return Ok();
  }
  TROAD_RETURN_IF_ERROR(WriteFileAtomically(v.out, lines, 0600));
  const auto entries = std::count(lines.begin(), lines.end(), '\n');
  std::fprintf(stderr, "%lld audit entries written to %s\n", static_cast<long long>(entries),
               v.out.c_str());
  return Ok();
}

Status GlobalconfStatus(Command& c) {
  TROAD_RETURN_IF_ERROR(c.Open());
  TROAD_ASSIGN_OR_RETURN(Reply r, c.Call("GET", "/api/v1/globalconf"));
  c.Print(r, [](const json& d) {
    if (!Bool(d, "published")) {
      Out("no global configuration published yet\n");
      return;
    }
    std::string state = "valid";
    if (auto expires = ParseRfc3339(Str(d, "expires_at"))) {
      const auto left =
          std::chrono::duration_cast<std::chrono::minutes>(*expires - SystemClock::Get().Now());
      if (left.count() <= 0) {
        state = "EXPIRED: gateways stop exchanging until a new one is published";
      } else if (left.count() < 60) {
        state = fmt::format("valid for {} min more", left.count());
      } else {
        state = fmt::format("valid for {} h {} min more", left.count() / 60, left.count() % 60);
      }
    }
    Summary({{"version", Str(d, "version")},
             {"sha256", Str(d, "sha256")},
             {"issued at", ShortTime(Str(d, "issued_at"))},
             {"expires at", ShortTime(Str(d, "expires_at"))},
             {"state", state}});
  });
  return Ok();
}

// ---- the command line ----

struct Builder {
  OperatorCommands& commands;

  // A leaf command with the options every operator command has.
  CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& help,
                 const std::string& full_name, Handler run, bool json_flag = true) {
    CLI::App* app = parent->add_subcommand(name, help);
    OperatorValues& v = commands.values;
    app->add_option("--session", v.session,
                    "session file (default: $TROAD_SESSION, else "
                    "$XDG_CONFIG_HOME/troad/session.json or ~/.config/troad/session.json)");
    if (json_flag) app->add_flag("--json", v.json, "print the API's JSON answer as it is");
    commands.leaves.push_back({app, full_name, run});
    return app;
  }

  CLI::Option* Required(CLI::Option* option) {
    option->description(option->get_description() + " (required)");
    commands.rules.required.push_back(option);
    return option;
  }
  void Exclusive(CLI::Option* a, CLI::Option* b) { commands.rules.exclusive.emplace_back(a, b); }
  void Needs(CLI::Option* a, CLI::Option* b) { commands.rules.needs.emplace_back(a, b); }

  CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help) {
    CLI::App* group = app.add_subcommand(name, help);
    group->require_subcommand(1);
    return group;
  }
};

// The rules of `rules` for the options of `leaf`.
Status CheckOptionRules(const OptionRules& rules, const CLI::App& leaf) {
  const std::vector<const CLI::Option*> options = leaf.get_options();
  auto mine = [&](const CLI::Option* o) {
    return std::find(options.begin(), options.end(), o) != options.end();
  };
  for (const CLI::Option* o : rules.required) {
    if (mine(o) && o->count() == 0) {
      return Fail(ErrorCode::kInvalidArgument, "{} is required (see --help)", o->get_name());
    }
  }
  for (const auto& [a, b] : rules.exclusive) {
    if (mine(a) && a->count() > 0 && b->count() > 0) {
      return Fail(ErrorCode::kInvalidArgument, "{} and {} exclude each other", a->get_name(),
                  b->get_name());
    }
  }
  for (const auto& [a, b] : rules.needs) {
    if (mine(a) && a->count() > 0 && b->count() == 0) {
      return Fail(ErrorCode::kInvalidArgument, "{} needs {}", a->get_name(), b->get_name());
    }
  }
  return Ok();
}

}  // namespace

Result<globalconf::Endpoint> ParseEndpointRule(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "empty; write \"GET /persons/{{id}}\" or \"*\"");
  }
  text = text.substr(start);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  globalconf::Endpoint e;
  const size_t space = text.find_first_of(" \t");
  if (space == std::string_view::npos) {
    if (text != "*") {
      return Fail(ErrorCode::kInvalidArgument,
                  "\"{}\" is not METHOD PATH (\"GET /persons/{{id}}\") or \"*\"",
                  EscapeForLog(text, 100));
    }
    e.method = "*";
    e.path = "*";
    return e;
  }
  e.method = std::string(text.substr(0, space));
  for (char& ch : e.method) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  std::string_view path = text.substr(space);
  path.remove_prefix(path.find_first_not_of(" \t"));
  e.path = std::string(path);
  if (auto problem = globalconf::EndpointProblem(e)) {
    return Fail(ErrorCode::kInvalidArgument, "\"{}\": {} {}", EscapeForLog(text, 100),
                problem->first, problem->second);
  }
  return e;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  ForEachUtf8(text, [&](std::string_view, uint32_t cp) {
    if (IsZeroWidth(cp)) return;
    width += IsWide(cp) ? 2 : 1;
  });
  return width;
}

std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return "(none)\n";
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  cells.push_back(headers);
  for (const auto& row : rows) {
    std::vector<std::string> safe;
    for (size_t i = 0; i < headers.size(); ++i) safe.push_back(i < row.size() ? Safe(row[i]) : "");
    cells.push_back(std::move(safe));
  }
  std::vector<size_t> widths(headers.size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string ShortTime(std::string_view rfc3339) {
  // 2026-11-24T08:30:00.123Z
  if (rfc3339.size() < 20 || rfc3339[10] != 'T' || rfc3339.back() != 'Z') {
    return std::string(rfc3339);
  }
  return std::string(rfc3339.substr(0, 10)) + " " + std::string(rfc3339.substr(11, 8)) + "Z";
}

std::shared_ptr<OperatorCommands> AddOperatorCommands(CLI::App& app) {
  auto commands = std::make_shared<OperatorCommands>();
  OperatorValues& v = commands->values;
  Builder b{*commands};

  CLI::App* login = b.Leaf(&app, "login",
                           "Log in to a central's management API and keep the session in a file "
                           "for the other operator commands",
                           "login", Login, false);
  auto* anchor = login->add_option("--anchor", v.anchor, "the central's anchor.json (URL and CA)");
  auto* url = login->add_option("--url", v.url, "the central's URL, https://host:port");
  b.Needs(login->add_option("--ca-cert", v.ca_cert,
                            "with --url: the CA of the central's TLS certificate"),
          url);
  b.Exclusive(anchor, url);
  b.Required(login->add_option("-u,--user", v.user, "user name"));
  login->add_option("--password-file", v.password_file,
                    "file with the password ('-': standard input; default: $TROAD_PASSWORD, "
                    "else asked on the terminal)");
  b.Leaf(&app, "logout", "End the session on the central and remove the session file", "logout",
         Logout, false);

  CLI::App* member = b.Group(app, "member", "Members of the network (agencies): list, add, show");
  b.Leaf(member, "list", "List the members", "member list", MemberList);
  CLI::App* member_add =
      b.Leaf(member, "add", "Register a member (operators)", "member add", MemberAdd);
  b.Required(member_add->add_option("--id", v.id, "member id, e.g. TW/GOV/MOI"));
  b.Required(member_add->add_option("--name", v.name, "name, e.g. 內政部"));
  member_add->add_option("--name-en", v.name_en, "English name");
  CLI::App* member_show =
      b.Leaf(member, "show", "A member with its subsystems, gateways and services", "member show",
             MemberShow);
  b.Required(member_show->add_option("member", v.target, "member id"));

  CLI::App* subsystem = b.Group(app, "subsystem", "Subsystems of members: list, add");
  CLI::App* subsystem_list =
      b.Leaf(subsystem, "list", "List the subsystems", "subsystem list", SubsystemList);
  subsystem_list->add_option("--member", v.member, "only this member's");
  CLI::App* subsystem_add =
      b.Leaf(subsystem, "add", "Register a subsystem", "subsystem add", SubsystemAdd);
  b.Required(subsystem_add->add_option("--id", v.id, "subsystem id, e.g. TW/GOV/MOI/household"));
  b.Required(subsystem_add->add_option("--name", v.name, "name, e.g. 戶政"));

  CLI::App* gateway = app.get_subcommand("gateway");
  b.Leaf(gateway, "list", "List the gateways registered at the central", "gateway list",
         GatewayList);
  CLI::App* gateway_register = b.Leaf(gateway, "register", "Register a gateway at the central",
                                      "gateway register", GatewayRegister);
  b.Required(gateway_register->add_option("--id", v.id, "gateway id, e.g. TW/GOV/MOI/moi-gw"));
  b.Required(
      gateway_register->add_option("--address", v.address, "host:port other gateways connect to"));
  gateway_register->add_option("--client", v.clients,
                               "a subsystem this gateway serves (repeatable)");
  CLI::App* gateway_update =
      b.Leaf(gateway, "update",
             "Change a registered gateway's address or subsystems (what is not given stays)",
             "gateway update", GatewayUpdate);
  b.Required(gateway_update->add_option("--id", v.id, "gateway id"));
  gateway_update->add_option("--address", v.address, "new host:port");
  auto* clients = gateway_update->add_option(
      "--client", v.clients,
      "the subsystems it serves from now on (repeatable; replaces the list)");
  b.Exclusive(
      gateway_update->add_flag("--no-clients", v.no_clients, "it serves no subsystem any more"),
      clients);
  CLI::App* gateway_code =
      b.Leaf(gateway, "code", "Create a one-time enrollment code for a gateway and print it once",
             "gateway code", GatewayCode);
  b.Required(gateway_code->add_option("gateway", v.target, "gateway id"));
  gateway_code->add_option("--out", v.out, "write the code to this file (mode 0600) instead");

  CLI::App* service = b.Group(app, "service", "Services of subsystems: list, add, update");
  CLI::App* service_list =
      b.Leaf(service, "list", "List the services", "service list", ServiceList);
  service_list->add_option("--member", v.member, "only this member's");
  for (bool update : {false, true}) {
    CLI::App* s =
        update ? b.Leaf(service, "update", "Change a service (what is not given stays as it is)",
                        "service update", ServiceUpdate)
               : b.Leaf(service, "add", "Register a service", "service add", ServiceAdd);
    b.Required(s->add_option("--id", v.id, "service id, e.g. TW/GOV/MOI/household/registry"));
    s->add_option("--type", v.type, "REST (default) or OPENAPI");
    s->add_option("--description", v.description, "what it provides");
    auto* endpoint = s->add_option(
        "--endpoint", v.endpoints,
        "\"METHOD /path\" it serves, e.g. \"GET /persons/{nationalId}\" (repeatable; none: any)");
    auto* openapi = s->add_option("--openapi", v.openapi_file, "its OpenAPI document (JSON file)");
    s->add_option("--disabled-notice", v.disabled_notice, "what callers are told while disabled");
    auto* disable = s->add_flag("--disable", v.disable, "callers are refused for now");
    if (update) {
      b.Exclusive(s->add_flag("--enable", v.enable, "callers are served again"), disable);
      b.Exclusive(s->add_flag("--no-endpoints", v.no_endpoints, "serves any endpoint"), endpoint);
      b.Exclusive(s->add_flag("--drop-openapi", v.drop_openapi, "remove its OpenAPI document"),
                  openapi);
    }
  }

  CLI::App* group =
      b.Group(app, "group", "Global groups of subsystems, and grants of services to them");
  b.Leaf(group, "list", "List the global groups and their subsystems", "group list", GroupList);
  for (bool update : {false, true}) {
    CLI::App* g =
        update ? b.Leaf(group, "update", "Change a group's descriptions (operators)",
                        "group update", GroupUpdate)
               : b.Leaf(group, "add", "Create a global group (operators)", "group add", GroupAdd);
    b.Required(g->add_option("--code", v.id, "group code, e.g. municipalities"));
    b.Required(g->add_option("--description", v.description, "what it is, e.g. 直轄市及縣市政府"));
    g->add_option("--description-en", v.name_en, "in English");
    if (!update) g->add_option("--member", v.clients, "a subsystem in it (repeatable)");
  }
  CLI::App* group_delete = b.Leaf(group, "delete",
                                  "Delete a global group (operators; refused "
                                  "while a grant to it is in force)",
                                  "group delete", GroupDelete);
  b.Required(group_delete->add_option("--code", v.id, "group code"));
  for (bool add : {true, false}) {
    CLI::App* m = add ? b.Leaf(group, "add-member", "Add subsystems to a group (operators)",
                               "group add-member", GroupAddMember)
                      : b.Leaf(group, "remove-member", "Remove subsystems from a group (operators)",
                               "group remove-member", GroupRemoveMember);
    b.Required(m->add_option("--code", v.id, "group code"));
    m->add_option("--member", v.clients, "subsystem id (repeatable)");
  }
  b.Leaf(group, "grants", "List grants of services to groups", "group grants", GroupGrants);
  CLI::App* group_grant = b.Leaf(group, "grant",
                                 "Grant a service (or some of its methods and paths) to every "
                                 "subsystem of a group (the provider's administrator)",
                                 "group grant", GroupGrant);
  b.Required(group_grant->add_option("--code", v.id, "group code"));
  b.Required(group_grant->add_option("--service", v.service,
                                     "the service, e.g. TW/GOV/MOI/household/registry"));
  group_grant->add_option("--rule", v.rules,
                          "\"METHOD /path\" allowed (repeatable; none: the whole service)");
  b.Required(group_grant->add_option("--reason", v.reason, "why, e.g. the agreement"));
  CLI::App* group_withdraw =
      b.Leaf(group, "withdraw", "Withdraw a grant to a group", "group withdraw", GroupWithdraw);
  b.Required(group_withdraw->add_option("id", v.target, "group grant id (troad group grants)"));
  b.Required(group_withdraw->add_option("--reason", v.reason, "why"));

  CLI::App* cert = b.Group(app, "cert", "Certificates and their requests: review, approve, revoke");
  CLI::App* cert_requests =
      b.Leaf(cert, "requests", "List certificate requests (CSRs)", "cert requests", CertRequests);
  cert_requests->add_option("--status", v.status, "only pending, approved or rejected ones");
  CLI::App* cert_approve = b.Leaf(cert, "approve", "Approve a certificate request: the CA issues",
                                  "cert approve", CertApprove);
  b.Required(cert_approve->add_option("id", v.target, "request id"));
  CLI::App* cert_reject =
      b.Leaf(cert, "reject", "Reject a certificate request", "cert reject", CertReject);
  b.Required(cert_reject->add_option("id", v.target, "request id"));
  b.Required(cert_reject->add_option("--reason", v.reason, "why (the requester sees it)"));
  CLI::App* cert_list = b.Leaf(cert, "list", "List issued certificates", "cert list", CertList);
  cert_list->add_option("--owner", v.owner, "only this member's or gateway's");
  CLI::App* cert_revoke = b.Leaf(cert, "revoke", "Revoke a certificate", "cert revoke", CertRevoke);
  b.Required(cert_revoke->add_option("fingerprint", v.target,
                                     "its SHA-256 fingerprint (troad cert list)"));
  b.Required(cert_revoke->add_option("--reason", v.reason, "why, e.g. \"key lost\""));

  CLI::App* grant =
      b.Group(app, "grant", "Access applications and grants: apply, approve, reject, withdraw");
  CLI::App* grant_list = b.Leaf(grant, "list", "List access applications (approved = granted)",
                                "grant list", GrantList);
  grant_list->add_option("--status", v.status,
                         "only pending, approved, rejected or withdrawn ones");
  CLI::App* grant_apply = b.Leaf(grant, "apply", "Apply for access to a service for a subsystem",
                                 "grant apply", GrantApply);
  b.Required(grant_apply->add_option("--client", v.client,
                                     "the subsystem that will call, e.g. TW/GOV/BLI/insurance"));
  b.Required(grant_apply->add_option("--service", v.service,
                                     "the service, e.g. TW/GOV/MOI/household/registry"));
  grant_apply->add_option("--rule", v.rules,
                          "\"METHOD /path\" it may call (repeatable; none: the whole service)");
  b.Required(grant_apply->add_option("--purpose", v.purpose, "why it needs the data"));
  for (const char* verb : {"approve", "reject", "withdraw"}) {
    const std::string name = verb;
    CLI::App* a =
        b.Leaf(grant, name,
               name == "approve"  ? "Approve an application (the provider): it becomes a grant"
               : name == "reject" ? "Reject an application (the provider)"
                                  : "Withdraw an application or a grant (either side)",
               "grant " + name,
               name == "approve"  ? GrantApprove
               : name == "reject" ? GrantReject
                                  : GrantWithdraw);
    b.Required(a->add_option("id", v.target, "application id"));
    auto* reason = a->add_option("--reason", v.reason, "why");
    if (name != "approve") b.Required(reason);
  }

  CLI::App* admin = b.Group(app, "admin", "Administrator accounts of the central");
  b.Leaf(admin, "list", "List the accounts you may manage", "admin list", AdminList);
  CLI::App* admin_add = b.Leaf(admin, "add", "Create an account", "admin add", AdminAdd);
  b.Required(admin_add->add_option("-u,--user", v.user, "user name (a-z, 0-9, '.', '_', '-')"));
  b.Required(admin_add->add_option("--role", v.role, "operator or member-admin"));
  admin_add->add_option("--member", v.member,
                        "a member-admin's member (default: your own, for a member-admin)");
  admin_add->add_option("--display-name", v.display_name, "the person's name");
  admin_add->add_option("--password-file", v.password_file,
                        "file with the new account's password ('-': standard input; default: "
                        "$TROAD_NEW_PASSWORD, else asked on the terminal)");
  CLI::App* admin_disable = b.Leaf(admin, "disable", "Disable an account (ends its sessions)",
                                   "admin disable", AdminDisable);
  b.Required(admin_disable->add_option("user", v.target, "user name"));
  CLI::App* admin_enable =
      b.Leaf(admin, "enable", "Enable a disabled account", "admin enable", AdminEnable);
  b.Required(admin_enable->add_option("user", v.target, "user name"));
  CLI::App* admin_password =
      b.Leaf(admin, "password", "Change your password, or reset another account's",
             "admin password", AdminPassword);
  admin_password->add_option("user", v.target, "user name (default: yourself)");
  admin_password->add_option("--password-file", v.password_file,
                             "file with the new password ('-': standard input; default: "
                             "$TROAD_NEW_PASSWORD, else asked on the terminal)");
  admin_password->add_option("--current-password-file", v.current_password_file,
                             "for your own: file with the current password (default: "
                             "$TROAD_PASSWORD, else asked on the terminal)");

  CLI::App* audit = b.Group(app, "audit", "The central's audit log");
  CLI::App* audit_export =
      b.Leaf(audit, "export", "Export audit entries as JSON Lines", "audit export", AuditExport);
  audit_export->add_option("--from", v.from,
                           "entries at or after (2026-11-24T08:00:00Z or 2026-11-24)");
  audit_export->add_option("--to", v.to, "entries before");
  audit_export->add_option("--member", v.member, "operators: only entries about this member");
  audit_export->add_option("--actor", v.actor, "only entries by this user");
  audit_export->add_option("-o,--out", v.out, "write to this file (mode 0600) instead of stdout");

  CLI::App* globalconf = b.Group(app, "globalconf", "The published global configuration");
  b.Leaf(globalconf, "status", "Version, hash and validity of the published configuration",
         "globalconf status", GlobalconfStatus);
  return commands;
}

std::optional<int> RunOperatorCommand(const OperatorCommands& commands) {
  for (const OperatorLeaf& leaf : commands.leaves) {
    if (!*leaf.app) continue;
    Command command(leaf.name, commands.values, *leaf.app);
    if (auto st = CheckOptionRules(commands.rules, *leaf.app); !st) {
      return command.Report(st.error());
    }
    Status st = WithHint(command, leaf.run(command));
    if (!st) return command.Report(st.error());
    return 0;
  }
  return std::nullopt;
}

}  // namespace troad::cli
