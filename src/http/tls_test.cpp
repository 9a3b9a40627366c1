// TLS contexts, mutual authentication and certificate pinning over real sockets on
// 127.0.0.1, with a CA and certificates issued at test time.
#include "http/tls.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>

#include "crypto/ca.h"
#include "http/client.h"
#include "http/server.h"
#include "http/test_util.h"

namespace troad::http {
namespace {

using namespace std::chrono_literals;
using testing::IoThread;

template <class T>
T Must(Result<T> result) {
  if (!result) throw std::runtime_error(result.error().ToString());
  return std::move(*result);
}

struct Identity {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
};

Identity MakeCa(const std::string& name) {
  crypto::PrivateKey key = Must(crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest request;
  request.common_name = name;
  request.usage = crypto::CertUsage::kCa;
  crypto::Certificate certificate =
      Must(crypto::CreateSelfSignedCa(key, request, SystemClock::Get()));
  return Identity{std::move(key), std::move(certificate)};
}

Identity Issue(const Identity& ca, const std::string& name) {
  crypto::PrivateKey key = Must(crypto::PrivateKey::GenerateEcP256());
  crypto::CertificateRequest request;
  request.common_name = name;
  request.ip_addresses = {"127.0.0.1"};
  request.usage = crypto::CertUsage::kAuthentication;
  crypto::Certificate certificate = Must(
      crypto::IssueCertificate(ca.certificate, ca.key, key.Public(), request, SystemClock::Get()));
  return Identity{std::move(key), std::move(certificate)};
}

TlsOptions OptionsFor(const Identity& identity, const Identity& anchor) {
  TlsOptions options;
  options.certificate_chain = {identity.certificate};
  options.private_key = identity.key;
  options.trust_anchors = {anchor.certificate};
  return options;
}

class TlsTest : public ::testing::Test {
 protected:
  // Starts a TLS server that requires a client certificate unless told otherwise.
  void StartServer(TlsOptions options) {
    auto context = MakeServerTlsContext(options);
    ASSERT_TRUE(context.has_value()) << context.error().ToString();
    server_context_ = *context;
    auto handler = [this](Request&, const ConnectionInfo& info) -> asio::awaitable<Response> {
      {
        std::lock_guard lock(mu_);
        seen_ = info;
        client_ports_.insert(info.remote.port());
      }
      ++calls_;
      co_return MakeResponse(200, "secret", "text/plain");
    };
    auto server = Server::Create(io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                 server_context_, handler, ServerOptions{});
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
    server_->Start();
    endpoint_ = Endpoint{"127.0.0.1", server_->local_endpoint().port(), true, ""};
  }

  TlsOptions MutualServerOptions() {
    TlsOptions options = OptionsFor(server_identity_, ca_);
    options.require_peer_certificate = true;
    return options;
  }

  std::unique_ptr<Client> MakeClient(const TlsOptions& options) {
    auto context = MakeClientTlsContext(options);
    EXPECT_TRUE(context.has_value()) << context.error().ToString();
    if (!context) return nullptr;
    ClientOptions client_options;
    client_options.tls = *context;
    return std::make_unique<Client>(client_options);
  }

  Result<ClientResponse> Send(Client& client) {
    return io_.Run(client.Send(endpoint_, Request(bhttp::verb::get, "/secret", 11), 5s));
  }

  Identity ca_ = MakeCa("Test Root CA");
  Identity other_ca_ = MakeCa("Other Root CA");
  Identity server_identity_ = Issue(ca_, "gw-server");
  Identity client_identity_ = Issue(ca_, "gw-client");
  Identity stranger_ = Issue(other_ca_, "stranger");

  IoThread io_;
  std::shared_ptr<SslContext> server_context_;
  std::unique_ptr<Server> server_;
  Endpoint endpoint_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  ConnectionInfo seen_;
  std::set<uint16_t> client_ports_;
};

TEST_F(TlsTest, MutualTlsRoundTripGivesBothSidesThePeerCertificate) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));

  auto result = Send(*client);

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->response.body(), "secret");
  ASSERT_TRUE(result->peer_certificate.has_value());
  EXPECT_EQ(result->peer_certificate->Sha256Fingerprint(),
            server_identity_.certificate.Sha256Fingerprint());
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_.tls);
  ASSERT_TRUE(seen_.peer_certificate.has_value());
  EXPECT_EQ(seen_.peer_certificate->Sha256Fingerprint(),
            client_identity_.certificate.Sha256Fingerprint());
}

TEST_F(TlsTest, KeepAliveOverTlsReusesOneConnection) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));

  for (int i = 0; i < 10; ++i) {
    auto result = Send(*client);
    ASSERT_TRUE(result.has_value()) << result.error().ToString();
  }

  std::lock_guard lock(mu_);
  EXPECT_EQ(client_ports_.size(), 1u);
}

TEST_F(TlsTest, ARenewedCertificateIsTakenUpByNewConnectionsOnBothSides) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));
  ASSERT_TRUE(Send(*client).has_value());

  // Both sides renew: new pairs from the same CA.
  Identity renewed_server = Issue(ca_, "gw-server");
  Identity renewed_client = Issue(ca_, "gw-client");
  TlsOptions server_options = OptionsFor(renewed_server, ca_);
  server_options.require_peer_certificate = true;
  auto server_context = MakeServerTlsContext(server_options);
  auto client_context = MakeClientTlsContext(OptionsFor(renewed_client, ca_));
  ASSERT_TRUE(server_context && client_context);
  ASSERT_TRUE(server_->SetTlsContext(*server_context));
  ASSERT_TRUE(client->SetTlsContext(*client_context));

  // The client dropped its idle connection and session: a fresh handshake with the new
  // pairs, and no resumption of the old identity.
  auto result = Send(*client);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_TRUE(result->peer_certificate.has_value());
  EXPECT_EQ(result->peer_certificate->Sha256Fingerprint(),
            renewed_server.certificate.Sha256Fingerprint());
  std::lock_guard lock(mu_);
  ASSERT_TRUE(seen_.peer_certificate.has_value());
  EXPECT_EQ(seen_.peer_certificate->Sha256Fingerprint(),
            renewed_client.certificate.Sha256Fingerprint());
  EXPECT_EQ(client_ports_.size(), 2u);
}

TEST_F(TlsTest, APlainServerHasNoTlsContextToReplace) {
  auto plain = Server::Create(
      io_.io(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), nullptr,
      [](Request&, const ConnectionInfo&) -> asio::awaitable<Response> {
        co_return MakeResponse(200, "", "text/plain");
      },
      ServerOptions{});
  ASSERT_TRUE(plain);
  auto context = MakeServerTlsContext(OptionsFor(server_identity_, ca_));
  ASSERT_TRUE(context);
  EXPECT_EQ((*plain)->SetTlsContext(*context).error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(TlsTest, FreshConnectionsResumeTheTlsSession) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));
  SSL_CTX* server_native = server_context_->native_handle();

  ASSERT_TRUE(Send(*client).has_value());
  EXPECT_EQ(SSL_CTX_sess_hits(server_native), 0);
  client->Shutdown();  // the next request needs a new connection
  auto resumed = Send(*client);

  ASSERT_TRUE(resumed.has_value()) << resumed.error().ToString();
  EXPECT_EQ(SSL_CTX_sess_hits(server_native), 1);
  // A resumed session still tells both sides who the peer is.
  ASSERT_TRUE(resumed->peer_certificate.has_value());
  EXPECT_EQ(resumed->peer_certificate->Sha256Fingerprint(),
            server_identity_.certificate.Sha256Fingerprint());
  std::lock_guard lock(mu_);
  ASSERT_TRUE(seen_.peer_certificate.has_value());
  EXPECT_EQ(seen_.peer_certificate->Sha256Fingerprint(),
            client_identity_.certificate.Sha256Fingerprint());
  EXPECT_EQ(client_ports_.size(), 2u);
}

TEST_F(TlsTest, MissingClientCertificateFailsTheHandshake) {
  StartServer(MutualServerOptions());
  TlsOptions anonymous;
  anonymous.trust_anchors = {ca_.certificate};
  auto client = MakeClient(anonymous);

  auto result = Send(*client);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable) << result.error().ToString();
  EXPECT_EQ(calls_, 0);
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaFailsTheHandshake) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(stranger_, ca_));

  auto result = Send(*client);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable) << result.error().ToString();
  EXPECT_EQ(calls_, 0);
}

TEST_F(TlsTest, RequestedClientCertificateMayBeAbsent) {
  TlsOptions options = OptionsFor(server_identity_, ca_);
  options.request_peer_certificate = true;
  StartServer(options);
  TlsOptions anonymous;
  anonymous.trust_anchors = {ca_.certificate};
  auto client = MakeClient(anonymous);

  auto result = Send(*client);

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  std::lock_guard lock(mu_);
  EXPECT_TRUE(seen_.tls);
  EXPECT_FALSE(seen_.peer_certificate.has_value());
}

TEST_F(TlsTest, ServerThatDoesNotAskGetsNoClientCertificate) {
  StartServer(OptionsFor(server_identity_, ca_));
  auto client = MakeClient(OptionsFor(client_identity_, ca_));

  auto result = Send(*client);

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  std::lock_guard lock(mu_);
  EXPECT_FALSE(seen_.peer_certificate.has_value());
}

TEST_F(TlsTest, UnexpectedServerCertificateIsUnauthenticatedBeforeTheRequestIsSent) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));
  const std::string wrong = client_identity_.certificate.Sha256Fingerprint();
  endpoint_.expected_peer_sha256 = wrong;

  auto result = Send(*client);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(result.error().message(),
            fmt::format("TLS handshake with 127.0.0.1:{}: server certificate {} is not the "
                        "expected {}",
                        endpoint_.port, server_identity_.certificate.Sha256Fingerprint(), wrong));
  EXPECT_EQ(calls_, 0);
}

TEST_F(TlsTest, ExpectedServerCertificateIsAccepted) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, ca_));
  endpoint_.expected_peer_sha256 = server_identity_.certificate.Sha256Fingerprint();

  auto result = Send(*client);

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(calls_, 1);
}

TEST_F(TlsTest, ServerFromAnUntrustedCaIsUnavailable) {
  StartServer(MutualServerOptions());
  auto client = MakeClient(OptionsFor(client_identity_, other_ca_));

  auto result = Send(*client);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message().find(fmt::format(
                "TLS handshake with 127.0.0.1:{}: certificate verify failed", endpoint_.port)),
            std::string::npos)
      << result.error().message();
  EXPECT_EQ(calls_, 0);
}

TEST_F(TlsTest, Tls13OnlyServerRefusesATls12Client) {
  StartServer(MutualServerOptions());
  TlsOptions options = OptionsFor(client_identity_, ca_);
  options.tls13_only = false;
  auto client_context = MakeClientTlsContext(options);
  ASSERT_TRUE(client_context.has_value());
  SSL_CTX_set_max_proto_version((*client_context)->native_handle(), TLS1_2_VERSION);
  Client client(ClientOptions{.tls = *client_context});

  auto result = Send(client);

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message().find("TLS handshake with"), std::string::npos)
      << result.error().message();
}

TEST_F(TlsTest, Tls12IsAcceptedWhenNotTls13Only) {
  TlsOptions server_options = MutualServerOptions();
  server_options.tls13_only = false;
  StartServer(server_options);
  TlsOptions options = OptionsFor(client_identity_, ca_);
  options.tls13_only = false;
  auto client_context = MakeClientTlsContext(options);
  ASSERT_TRUE(client_context.has_value());
  SSL_CTX_set_max_proto_version((*client_context)->native_handle(), TLS1_2_VERSION);
  Client client(ClientOptions{.tls = *client_context});

  auto result = Send(client);

  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  std::lock_guard lock(mu_);
  ASSERT_TRUE(seen_.peer_certificate.has_value());
}

TEST(TlsContextTest, KeyThatDoesNotMatchTheCertificateIsRefused) {
  Identity ca = MakeCa("Root");
  Identity server = Issue(ca, "server");
  Identity other = Issue(ca, "other");
  TlsOptions options = OptionsFor(server, ca);
  options.private_key = other.key;

  auto context = MakeServerTlsContext(options);

  ASSERT_FALSE(context.has_value());
  EXPECT_EQ(context.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(context.error().message().find("does not match the certificate"), std::string::npos)
      << context.error().message();
}

TEST(TlsContextTest, ServerNeedsACertificateAndKey) {
  TlsOptions options;
  options.trust_anchors = {MakeCa("Root").certificate};

  auto context = MakeServerTlsContext(options);

  ASSERT_FALSE(context.has_value());
  EXPECT_EQ(context.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TlsContextTest, ServerThatRequiresClientCertificatesNeedsTrustAnchors) {
  Identity ca = MakeCa("Root");
  TlsOptions options = OptionsFor(Issue(ca, "server"), ca);
  options.trust_anchors.clear();
  options.require_peer_certificate = true;

  auto context = MakeServerTlsContext(options);

  ASSERT_FALSE(context.has_value());
  EXPECT_NE(context.error().message().find("needs trust anchors"), std::string::npos);
}

TEST(TlsContextTest, ClientNeedsTrustAnchors) {
  auto context = MakeClientTlsContext(TlsOptions{});

  ASSERT_FALSE(context.has_value());
  EXPECT_EQ(context.error().code(), ErrorCode::kInvalidArgument);
}

TEST(TlsContextTest, MinimumProtocolFollowsTls13Only) {
  Identity ca = MakeCa("Root");
  TlsOptions options = OptionsFor(Issue(ca, "server"), ca);

  auto strict = MakeServerTlsContext(options);
  options.tls13_only = false;
  auto lenient = MakeServerTlsContext(options);

  ASSERT_TRUE(strict.has_value() && lenient.has_value());
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*strict)->native_handle()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*lenient)->native_handle()), TLS1_2_VERSION);
}

}  // namespace
}  // namespace troad::http
