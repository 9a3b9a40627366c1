#include "network_fixture.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/config.h"
#include "crypto/random.h"
#include "crypto/test_util.h"
#include "store/database.h"

#ifndef TROAD_BINARY
#error "TROAD_BINARY must name the troad executable"
#endif
#ifndef TROAD_SOURCE_DIR
#error "TROAD_SOURCE_DIR must name the source tree"
#endif

namespace troad::testing {
namespace fs = std::filesystem;
namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot open {}", path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Status WriteWholeFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << content) || !out.flush()) {
    return Fail(ErrorCode::kIo, "cannot write {}", path);
  }
  return Ok();
}

std::string Tail(const std::string& text, size_t lines) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
    if (n == lines) return text.substr(pos + 1);
  }
  return text.substr(pos);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Python from Debian first: a version manager's shim in PATH can take seconds to start.
std::string Python() { return crypto::testutil::Python3(); }

// Waits until every port accepts, failing early when the child has exited.
Status WaitForChildPorts(Subprocess& child, const std::string& name,
                         const std::vector<uint16_t>& ports) {
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  for (uint16_t port : ports) {
    for (;;) {
      if (!child.Running()) {
        return Fail(ErrorCode::kUnavailable, "{} exited before port {} accepted connections",
                    name, port);
      }
      if (WaitForPort("127.0.0.1", port, std::chrono::milliseconds(100))) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return Fail(ErrorCode::kDeadlineExceeded, "{}: port {} did not accept connections",
                    name, port);
      }
    }
  }
  return Ok();
}

}  // namespace

std::string GatewayName(Gw gw) {
  switch (gw) {
    case Gw::kMoi:
      return "moi-gw";
    case Gw::kBli:
      return "bli-gw";
    case Gw::kTax:
      return "tax-gw";
  }
  return "?";
}

std::string NewTestMessageId(std::string_view tag) {
  return fmt::format("it-{}-{}", tag, crypto::NewUuid());
}

Request MakeRestRequest(http::bhttp::verb method, const std::string& target,
                        std::string_view client, const std::string& message_id) {
  Request req{method, target, 11};
  if (!client.empty()) req.set("X-Road-Client", client);
  if (!message_id.empty()) req.set("X-Road-Id", message_id);
  return req;
}

std::string CurlResult::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Answer::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

Answer FromCurl(const CurlResult& result) { return {result.status, result.headers, result.body}; }

Answer FromResponse(const Response& response) {
  Answer a;
  a.status = response.result_int();
  for (const auto& f : response.base()) {
    a.headers[Lower(std::string(f.name_string()))] = std::string(f.value());
  }
  a.body = response.body();
  return a;
}

bool FaultTypeMatches(std::string_view type, std::string_view expected) {
  if (!expected.empty() && expected.back() == '.') {
    return type.size() > expected.size() && type.substr(0, expected.size()) == expected;
  }
  return type == expected;
}

::testing::AssertionResult IsFault(const Answer& answer, unsigned status, std::string_view type,
                                   FaultBody* out) {
  auto fail = [&](std::string why) {
    return ::testing::AssertionFailure()
           << why << "\n  status " << answer.status << ", X-Road-Error \""
           << answer.Header("x-road-error") << "\", body: " << answer.body.substr(0, 2000);
  };
  if (answer.status != status) return fail(fmt::format("expected status {}", status));
  std::string header = answer.Header("x-road-error");
  if (!FaultTypeMatches(header, type)) {
    return fail(fmt::format("expected X-Road-Error {}", type));
  }
  auto doc = nlohmann::json::parse(answer.body, nullptr, false);
  if (!doc.is_object()) return fail("the fault body is not a JSON object");
  for (const char* key : {"type", "message", "detail"}) {
    if (!doc.contains(key) || !doc[key].is_string()) {
      return fail(fmt::format("the fault body has no string \"{}\"", key));
    }
  }
  FaultBody body{doc["type"], doc["message"], doc["detail"]};
  if (body.type != header) return fail("the body's type differs from X-Road-Error");
  if (body.message.empty()) return fail("the fault message is empty");
  if (body.detail.empty()) return fail("the fault detail is empty");
  if (out != nullptr) *out = body;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult HasRecord(const TestNetwork& net, Gw gw, const std::string& column,
                                     const std::string& value, std::string_view side,
                                     std::string_view type) {
  auto records = net.Records(gw, column, value);
  if (!records) {
    return ::testing::AssertionFailure() << GatewayName(gw) << " message log: "
                                         << records.error().message();
  }
  std::string seen;
  for (const auto& r : *records) {
    if (r.side == side && (type.empty() ? r.fault.empty() : FaultTypeMatches(r.fault, type))) {
      return ::testing::AssertionSuccess();
    }
    seen += fmt::format("\n  side={} status={} fault=\"{}\" message_id=\"{}\" ({})", r.side,
                        r.status, r.fault, r.message_id, r.fault_message);
  }
  return ::testing::AssertionFailure()
         << GatewayName(gw) << " has no " << side << " record with " << column << " = \""
         << value << "\" and fault \"" << type << "\"; records with that " << column << ": "
         << (seen.empty() ? std::string("none") : seen);
}

// ---- TestBackends ------------------------------------------------------------------

Result<std::unique_ptr<TestBackends>> TestBackends::Start() {
  std::unique_ptr<TestBackends> b(new TestBackends());
  http::tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
  http::ServerOptions options;
  options.read_timeout = std::chrono::seconds(10);

  TestBackends* self = b.get();
  TROAD_ASSIGN_OR_RETURN(
      b->echo_,
      http::Server::Create(
          b->io_.io(), any, nullptr,
          [self](Request& req, const http::ConnectionInfo&) -> asio::awaitable<Response> {
            std::string target(req.target());
            self->Remember("echo", target);
            size_t q = target.find('?');
            nlohmann::json headers = nlohmann::json::object();
            for (const auto& f : req.base()) {
              headers[Lower(std::string(f.name_string()))] = std::string(f.value());
            }
            nlohmann::json j = {
                {"method", std::string(req.method_string())},
                {"target", target},
                {"path", target.substr(0, q)},
                {"query", q == std::string::npos ? "" : target.substr(q + 1)},
                {"headers", headers},
                {"body", req.body()},
            };
            Response res = http::MakeResponse(200, j.dump(), "application/json", req.version(),
                                              req.keep_alive());
            res.set("X-Echo-Backend", "yes");
            co_return res;
          },
          options));
  TROAD_ASSIGN_OR_RETURN(
      b->slow_,
      http::Server::Create(
          b->io_.io(), any, nullptr,
          [self](Request& req, const http::ConnectionInfo&) -> asio::awaitable<Response> {
            self->Remember("slow", std::string(req.target()));
            asio::steady_timer timer(co_await asio::this_coro::executor, kSlowDelay);
            boost::system::error_code ec;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_return http::MakeResponse(200, "{\"late\":true}", "application/json",
                                         req.version(), req.keep_alive());
          },
          options));
  b->echo_port_ = b->echo_->local_endpoint().port();
  b->slow_port_ = b->slow_->local_endpoint().port();

  b->garbage_ = std::make_unique<http::tcp::acceptor>(b->io_.io());
  boost::system::error_code ec;
  b->garbage_->open(any.protocol(), ec);
  if (!ec) b->garbage_->bind(any, ec);
  if (!ec) b->garbage_->listen(64, ec);
  if (ec) return Fail(ErrorCode::kIo, "garbage backend: cannot listen: {}", ec.message());
  b->garbage_port_ = b->garbage_->local_endpoint().port();

  b->echo_->Start();
  b->slow_->Start();
  asio::co_spawn(b->io_.io(), b->GarbageLoop(), asio::detached);
  return b;
}

// Answers every connection with bytes that are not an HTTP response, then closes it.
asio::awaitable<void> TestBackends::GarbageLoop() {
  for (;;) {
    boost::system::error_code ec;
    http::tcp::socket socket =
        co_await garbage_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // closed at shutdown
    auto s = std::make_shared<http::tcp::socket>(std::move(socket));
    asio::co_spawn(
        garbage_->get_executor(),
        [this, s]() -> asio::awaitable<void> {
          std::array<char, 4096> buf;
          boost::system::error_code rec;
          size_t n = co_await s->async_read_some(asio::buffer(buf),
                                                 asio::redirect_error(asio::use_awaitable, rec));
          Remember("garbage", std::string(buf.data(), n));
          static constexpr std::string_view kGarbage =
              "\x16\x03\x01 this is not HTTP at all \xff\xfe\r\n\r\n<<<>>>\r\n";
          co_await asio::async_write(*s, asio::buffer(kGarbage.data(), kGarbage.size()),
                                     asio::redirect_error(asio::use_awaitable, rec));
          s->close(rec);
        },
        asio::detached);
  }
}

TestBackends::~TestBackends() {
  if (echo_) echo_->Stop(std::chrono::milliseconds(100));
  if (slow_) slow_->Stop(std::chrono::milliseconds(100));
  std::promise<void> closed;
  asio::post(io_.io(), [&] {
    boost::system::error_code ec;
    if (garbage_) garbage_->close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
}

void TestBackends::Remember(std::string backend, std::string target) {
  std::lock_guard lock(mu_);
  seen_.push_back({std::move(backend), std::move(target)});
}

std::vector<SeenRequest> TestBackends::Seen() const {
  std::lock_guard lock(mu_);
  return seen_;
}

// ---- TestNetwork -------------------------------------------------------------------

Result<std::unique_ptr<TestNetwork>> TestNetwork::Create() {
  std::unique_ptr<TestNetwork> net(new TestNetwork());
  if (auto st = net->Setup(); !st) {
    net->KeepDirectory();
    return Fail(Error(st.error().code(),
                      fmt::format("{}\n(network directory kept: {})\n{}", st.error().message(),
                                  net->dir_, net->LogTails(25))));
  }
  return net;
}

std::string TestNetwork::GatewayDir(Gw gw) const { return dir_ + "/net/" + GatewayName(gw); }

std::string TestNetwork::LogFile(const std::string& name) const {
  return dir_ + "/logs/" + name + ".log";
}

Status TestNetwork::Setup() {
  std::string templ = (fs::temp_directory_path() / "troad-it-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    return Fail(ErrorCode::kIo, "mkdtemp {}: {}", templ, std::strerror(errno));
  }
  dir_ = templ;
  fs::create_directories(dir_ + "/logs");

  TROAD_ASSIGN_OR_RETURN(backends_, TestBackends::Start());
  io_ = std::make_unique<http::testing::IoThread>();
  http::ClientOptions client_options;
  client_options.body_limit = 16 * 1024 * 1024;
  client_ = std::make_unique<http::Client>(client_options);

  // Fixed ports for the processes (they are written into gateway.toml and the global
  // configuration); PickFreePort may hand out a port twice in a row, so check.
  std::set<uint16_t> used = {backends_->echo_port(), backends_->slow_port(),
                             backends_->garbage_port()};
  auto pick = [&]() -> Result<uint16_t> {
    for (int attempt = 0; attempt < 50; ++attempt) {
      TROAD_ASSIGN_OR_RETURN(uint16_t port, PickFreePort());
      if (used.insert(port).second) return port;
    }
    return Fail(ErrorCode::kUnavailable, "no distinct free port after 50 attempts");
  };
  for (GatewayPorts& p : ports_) {
    TROAD_ASSIGN_OR_RETURN(p.consumer, pick());
    TROAD_ASSIGN_OR_RETURN(p.provider, pick());
    TROAD_ASSIGN_OR_RETURN(p.admin, pick());
  }
  TROAD_ASSIGN_OR_RETURN(registry_port_, pick());
  TROAD_ASSIGN_OR_RETURN(tsa_port_, pick());
  TROAD_ASSIGN_OR_RETURN(ledger_port_, pick());
  // Nothing listens here: the "down" service's backend.
  TROAD_ASSIGN_OR_RETURN(down_port_, pick());

  std::string network_file = dir_ + "/network.toml";
  TROAD_RETURN_IF_ERROR(WriteNetworkFile(network_file));
  {
    TROAD_ASSIGN_OR_RETURN(
        Subprocess init,
        Subprocess::Start({TROAD_BINARY, "init", "--network", network_file, "--out", dir_ + "/net"},
                          LogFile("init")));
    int status = init.Wait(std::chrono::seconds(60));
    if (status == -1) {
      init.Kill();
      return Fail(ErrorCode::kDeadlineExceeded, "troad init did not finish within 60 s");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return Fail(ErrorCode::kInternal, "troad init failed (wait status {})", status);
    }
  }
  for (Gw gw : kAllGateways) TROAD_RETURN_IF_ERROR(PatchGatewayConfig(gw));

  // The network's timestamping authority (`troad tsa`): every gateway stamps its
  // record batches there.
  {
    const std::string tsa_dir = dir_ + "/net/tsa";
    TROAD_ASSIGN_OR_RETURN(
        Subprocess tsa,
        Subprocess::Start({TROAD_BINARY, "tsa", "--certificate", tsa_dir + "/tsa.crt", "--key",
                           tsa_dir + "/tsa.key", "--listen",
                           fmt::format("127.0.0.1:{}", tsa_port_), "--data-dir", tsa_dir + "/data"},
                          LogFile("tsa")));
    tsa_.emplace(std::move(tsa));
    TROAD_RETURN_IF_ERROR(WaitForChildPorts(*tsa_, "troad tsa", {tsa_port_}));
  }
  // The network's transparency ledger (`troad ledger`): every gateway ships its record
  // digests there.
  {
    const std::string ledger_dir = dir_ + "/net/ledger";
    TROAD_ASSIGN_OR_RETURN(
        Subprocess ledger,
        Subprocess::Start({TROAD_BINARY, "ledger", "--key", ledger_dir + "/ledger.key",
                           "--globalconf", dir_ + "/net/globalconf.json", "--origin",
                           "troad-ledger/TW", "--listen", fmt::format("127.0.0.1:{}", ledger_port_),
                           "--data-dir", ledger_dir + "/data"},
                          LogFile("ledger")));
    ledger_.emplace(std::move(ledger));
    TROAD_RETURN_IF_ERROR(WaitForChildPorts(*ledger_, "troad ledger", {ledger_port_}));
  }
  TROAD_ASSIGN_OR_RETURN(
      Subprocess registry,
      Subprocess::Start({Python(), std::string(TROAD_SOURCE_DIR) + "/examples/moi-household/backend.py",
                         "--port", std::to_string(registry_port_)},
                        LogFile("moi-household")));
  registry_.emplace(std::move(registry));
  TROAD_RETURN_IF_ERROR(WaitForChildPorts(*registry_, "moi-household backend", {registry_port_}));
  for (Gw gw : kAllGateways) TROAD_RETURN_IF_ERROR(StartGateway(gw));
  return Ok();
}

Status TestNetwork::WriteNetworkFile(const std::string& path) const {
  auto gateway = [&](Gw gw, std::string_view owner) {
    const GatewayPorts& p = ports(gw);
    return fmt::format(
        "[[gateways]]\nname = \"{}\"\nowner = \"{}\"\nlocal_listen = \"127.0.0.1:{}\"\n"
        "peer_listen = \"127.0.0.1:{}\"\nadmin_listen = \"127.0.0.1:{}\"\n\n",
        GatewayName(gw), owner, p.consumer, p.provider, p.admin);
  };
  auto service = [](std::string_view code, const std::string& backend, std::string_view extra) {
    return fmt::format("[[services]]\nid = \"{}/{}\"\nbackend = {}\n{}\n", kMoiSubsystem, code,
                       TomlQuote(backend), extra);
  };
  std::string echo_url = fmt::format("http://127.0.0.1:{}{}", backends_->echo_port(), kEchoBase);
  std::string openapi = std::string(TROAD_SOURCE_DIR) + "/examples/moi-household/openapi.json";
  std::string text =
      "# Written by the troad integration tests (tests/network_fixture.cpp).\n"
      "instance = \"TW\"\nglobalconf_validity_days = 2\nmax_clock_skew_ms = 60000\n\n"
      "[[members]]\nid = \"TW/GOV/MOI\"\nname = \"內政部\"\nname_en = \"Ministry of the "
      "Interior\"\nsubsystems = [\"household\"]\n\n"
      "[[members]]\nid = \"TW/GOV/BLI\"\nname = \"勞動部勞工保險局\"\nname_en = \"Bureau of "
      "Labor Insurance\"\nsubsystems = [\"insurance\"]\n\n"
      "[[members]]\nid = \"TW/GOV/TAX\"\nname = \"財政部\"\nname_en = \"Ministry of "
      "Finance\"\nsubsystems = [\"income\"]\n\n";
  text += fmt::format("[tsa]\nlisten = \"127.0.0.1:{}\"\n\n", tsa_port_);
  text += fmt::format("[ledger]\nlisten = \"127.0.0.1:{}\"\n\n", ledger_port_);
  text += gateway(Gw::kMoi, "TW/GOV/MOI");
  text += gateway(Gw::kBli, "TW/GOV/BLI");
  text += gateway(Gw::kTax, "TW/GOV/TAX");
  text += service("registry", fmt::format("http://127.0.0.1:{}/api", registry_port_),
                  "openapi = " + TomlQuote(openapi) +
                      "\nendpoints = [\n  { method = \"GET\", path = \"/persons/{nationalId}\" },\n"
                      "  { method = \"GET\", path = \"/households/{householdId}\" },\n]\n");
  text += service("echo", echo_url, "");
  text += service("slow", fmt::format("http://127.0.0.1:{}/slow", backends_->slow_port()),
                  fmt::format("timeout_ms = {}\n", kSlowTimeout.count()));
  text += service("garbage", fmt::format("http://127.0.0.1:{}/", backends_->garbage_port()), "");
  text += service("down", fmt::format("http://127.0.0.1:{}/", down_port_), "timeout_ms = 2000\n");
  text += service("disabled", echo_url,
                  "enabled = false\ndisabled_notice = " + TomlQuote(kDisabledNotice) + "\n");
  // BLI may read one person's record of the registry, and call the other services.
  text += fmt::format(
      "[[grants]]\nclient = \"{}\"\nservice = \"{}/registry\"\n"
      "rules = [ {{ method = \"GET\", path = \"/persons/{{nationalId}}\" }} ]\n\n",
      kBliClient, kMoiSubsystem);
  for (std::string_view code : {"echo", "slow", "garbage", "down", "disabled"}) {
    text += fmt::format("[[grants]]\nclient = \"{}\"\nservice = \"{}/{}\"\n\n", kBliClient,
                        kMoiSubsystem, code);
  }
  return WriteWholeFile(path, text);
}

// Two gateway threads (the machine is small), text logs, and a small body limit on
// the consumer side so that the oversized-body refusal is cheap to provoke.
Status TestNetwork::PatchGatewayConfig(Gw gw) const {
  std::string file = GatewayDir(gw) + "/gateway.toml";
  TROAD_ASSIGN_OR_RETURN(std::string toml, ReadWholeFile(file));
  const std::string anchor = "data_dir = \"data\"\n";
  size_t at = toml.find(anchor);
  if (at == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "{}: no line {}", file, anchor);
  }
  toml.insert(at + anchor.size(), "threads = 2\n");
  toml += "\n[logging]\nformat = \"text\"\nlevel = \"info\"\n";
  if (gw == Gw::kBli) toml += fmt::format("\n[limits]\nmax_body_bytes = {}\n", kConsumerMaxBody);
  return WriteWholeFile(file, toml);
}

Status TestNetwork::StartGateway(Gw gw) {
  auto& slot = gateways_[static_cast<int>(gw)];
  if (slot && slot->Running()) {
    return Fail(ErrorCode::kFailedPrecondition, "{} is already running", GatewayName(gw));
  }
  std::string name = GatewayName(gw);
  TROAD_ASSIGN_OR_RETURN(
      Subprocess child,
      Subprocess::Start({TROAD_BINARY, "gateway", "--config", GatewayDir(gw) + "/gateway.toml"},
                        LogFile(name)));
  slot.emplace(std::move(child));
  const GatewayPorts& p = ports(gw);
  return WaitForChildPorts(*slot, name, {p.consumer, p.provider, p.admin});
}

int TestNetwork::KillGateway(Gw gw) {
  auto& slot = gateways_[static_cast<int>(gw)];
  return slot ? slot->Kill() : -1;
}

int TestNetwork::StopGateway(Gw gw, std::chrono::milliseconds grace) {
  auto& slot = gateways_[static_cast<int>(gw)];
  return slot ? slot->Stop(grace) : -1;
}

bool TestNetwork::GatewayRunning(Gw gw) {
  auto& slot = gateways_[static_cast<int>(gw)];
  return slot && slot->Running();
}

TestNetwork::~TestNetwork() {
  // Consumers first, so that no exchange is left half-way at a stopped provider.
  for (Gw gw : {Gw::kBli, Gw::kTax, Gw::kMoi}) {
    if (gateways_[static_cast<int>(gw)]) gateways_[static_cast<int>(gw)]->Stop();
  }
  if (registry_) registry_->Stop();
  if (tsa_) tsa_->Stop();
  if (ledger_) ledger_->Stop();
  if (client_) client_->Shutdown();
  client_.reset();
  io_.reset();
  backends_.reset();
  if (!dir_.empty()) {
    if (keep_dir_) {
      std::fprintf(stderr, "integration test: network directory kept: %s\n", dir_.c_str());
    } else {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
}

std::string TestNetwork::LogTails(size_t lines) const {
  std::string out;
  std::error_code ec;
  if (dir_.empty() || !fs::exists(dir_ + "/logs", ec)) return out;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_ + "/logs", ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = ReadWholeFile(f.string());
    out += fmt::format("\n---- {} (last {} lines) ----\n{}", f.filename().string(), lines,
                       text ? Tail(*text, lines) : text.error().message());
  }
  return out;
}

CurlResult TestNetwork::Curl(Gw gw, const std::string& target,
                             const std::vector<std::string>& args) {
  CurlResult r;
  int n = ++curl_count_;
  std::string base = fmt::format("{}/curl-{}", dir_, n);
  std::vector<std::string> argv = {"curl", "-sS", "--path-as-is", "--max-time", "30",
                                   "-D", base + ".headers", "-o", base + ".body",
                                   "-w", "\n%{http_code}\n"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(fmt::format("http://127.0.0.1:{}{}", ports(gw).consumer, target));
  auto child = Subprocess::Start(argv, base + ".out");
  if (!child) {
    r.output = child.error().message();
    return r;
  }
  int status = child->Wait(std::chrono::seconds(40));
  if (status == -1) {
    child->Kill();
    r.output = "curl did not finish within 40 s";
    return r;
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  r.output = ReadWholeFile(base + ".out").value_or("");
  std::string out = r.output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  size_t nl = out.rfind('\n');
  r.status = static_cast<unsigned>(std::atoi(out.substr(nl == std::string::npos ? 0 : nl + 1).c_str()));
  r.body = ReadWholeFile(base + ".body").value_or("");
  // -D holds every response's header block (an interim 100 Continue, say): keep the last.
  std::string hdrs = ReadWholeFile(base + ".headers").value_or("");
  std::istringstream lines(hdrs);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
      r.headers.clear();
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    size_t start = value.find_first_not_of(" \t");
    r.headers[Lower(line.substr(0, colon))] = start == std::string::npos ? "" : value.substr(start);
  }
  return r;
}

Result<Response> TestNetwork::Call(uint16_t port, Request request) {
  http::Endpoint ep{"127.0.0.1", port, false, ""};
  http::Client* client = client_.get();
  auto result = io_->Run([](http::Client* c, http::Endpoint e,
                            Request req) -> asio::awaitable<Result<http::ClientResponse>> {
    co_return co_await c->Send(e, std::move(req), std::chrono::seconds(20));
  }(client, ep, std::move(request)));
  if (!result) return Fail(std::move(result).error());
  return std::move(result->response);
}

Result<std::vector<gateway::TransferRecord>> TestNetwork::Records(Gw gw, const std::string& column,
                                                                  const std::string& value) const {
  return gateway::ReadTransferRecords(GatewayDir(gw) + "/data/messagelog.db", column, value);
}

Result<std::vector<std::string>> TestNetwork::AllMessageIds(Gw gw) const {
  store::SqliteOptions options;
  options.read_only = true;
  TROAD_ASSIGN_OR_RETURN(auto db, store::OpenSqlite(GatewayDir(gw) + "/data/messagelog.db", options));
  TROAD_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT message_id FROM transfer_record"));
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const store::Row& row : rows) {
    TROAD_ASSIGN_OR_RETURN(std::string id, row.Text(0));
    out.push_back(std::move(id));
  }
  return out;
}

std::pair<int, std::string> TestNetwork::VerifyUntil(
    const std::vector<std::string>& args, const std::string& name,
    const std::function<bool(const std::string&)>& caught_up) {
  const std::string log = LogFile(name);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int code = -1;
  std::string out;
  do {
    std::error_code ec;
    fs::remove(log, ec);  // the log is appended to
    auto child = Subprocess::Start(args, log);
    if (!child) return {-1, child.error().ToString()};
    const int status = child->Wait(std::chrono::seconds(60));
    code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(log);
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (code != 0 || caught_up(out)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  } while (std::chrono::steady_clock::now() < deadline);
  return {code, out};
}

std::pair<int, std::string> TestNetwork::VerifyLedger(Gw gw) {
  return VerifyUntil(
      {TROAD_BINARY, "verify-ledger", "--config", GatewayDir(gw) + "/gateway.toml", "--all"},
      "verify-ledger",
      [](const std::string& out) { return out.find(", 0 not shipped yet") != std::string::npos; });
}

std::pair<int, std::string> TestNetwork::VerifyLog(Gw gw) {
  return VerifyUntil(
      {TROAD_BINARY, "verify-log", "--config", GatewayDir(gw) + "/gateway.toml"}, "verify-log",
      [](const std::string& out) { return out.find("not timestamped yet") == std::string::npos; });
}

// ---- NetworkTest -------------------------------------------------------------------

std::unique_ptr<TestNetwork> NetworkTest::network_;
std::string NetworkTest::setup_error_;

void NetworkTest::SetUpTestSuite() {
  setup_error_.clear();
  auto net = TestNetwork::Create();
  if (net) {
    network_ = std::move(*net);
  } else {
    setup_error_ = net.error().message();
  }
}

void NetworkTest::TearDownTestSuite() {
  const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  if (network_ && suite != nullptr && suite->Failed()) network_->KeepDirectory();
  network_.reset();
}

void NetworkTest::SetUp() {
  ASSERT_NE(network_, nullptr) << "the test network did not start: " << setup_error_;
}

}  // namespace troad::testing
