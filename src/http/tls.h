// TLS contexts for servers and clients (Asio ssl::context over OpenSSL 3).
// Thread-safety: a context is immutable once made and shared by all connections.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/key.h"
#include "crypto/x509.h"

namespace troad::http {

struct TlsOptions {
  // Our certificate (leaf first, then intermediates) and its key. Optional for a
  // client that does not authenticate itself.
  std::vector<crypto::Certificate> certificate_chain;
  std::optional<crypto::PrivateKey> private_key;
  // Anchors that peers' certificates must chain to. Empty: peers are not verified
  // (only for a server that does not ask for client certificates).
  std::vector<crypto::Certificate> trust_anchors;
  // Server: ask for a client certificate and refuse the handshake without a valid one.
  bool require_peer_certificate = false;
  // Server: ask for a client certificate but accept a connection without one
  // (the handler sees ConnectionInfo::peer_certificate empty).
  bool request_peer_certificate = false;
  // TLS 1.3 only (gateway to gateway); otherwise TLS 1.2 and 1.3.
  bool tls13_only = true;
};

using SslContext = boost::asio::ssl::context;

Result<std::shared_ptr<SslContext>> MakeServerTlsContext(const TlsOptions& options);
// A server context for people's browsers and other HTTPS clients (TLS 1.2 and 1.3, no
// client certificates) from a PEM certificate file (leaf first, then intermediates) and
// a PEM key file: [keys] tls_certificate / tls_key of the central, the idp and MyData.
// Both empty: null, i.e. plain HTTP (the idp and MyData on loopback or behind a proxy).
Result<std::shared_ptr<SslContext>> MakeServerTlsContextFromFiles(const std::string& certificate,
                                                                  const std::string& key);

// A client context verifies the server's chain against trust_anchors (required) but
// not its host name: troad pins the expected certificate by fingerprint instead
// (Endpoint::expected_peer_sha256).
Result<std::shared_ptr<SslContext>> MakeClientTlsContext(const TlsOptions& options);

// A client context for a server reached by name rather than pinned by fingerprint (the
// central): TLS 1.2 or 1.3, the server's chain verified against `ca`, and its certificate
// must name `host` (an IP address or a DNS name, no partial wildcards).
// kInvalidArgument for a CA certificate OpenSSL refuses or a host name it cannot check.
Result<std::shared_ptr<SslContext>> MakeClientTlsContextForHost(const crypto::Certificate& ca,
                                                                const std::string& host);

}  // namespace troad::http
