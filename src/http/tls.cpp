// TLS contexts: see tls.h.
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <exception>

#include "core/encoding.h"
#include "core/file.h"

namespace troad::http {
namespace {

// OpenSSL's reason for the most recent failure on this thread, or `fallback`.
std::string OpenSslReason(std::string_view fallback) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

Result<std::shared_ptr<SslContext>> NewContext(boost::asio::ssl::context::method method,
                                               bool tls13_only) {
  std::shared_ptr<SslContext> context;
  try {
    context = std::make_shared<SslContext>(method);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, "creating an OpenSSL context: {}", e.what());
  }
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION) != 1) {
    return Fail(ErrorCode::kInternal, "setting the minimum TLS version: {}",
                OpenSslReason("unknown error"));
  }
  // Compression invites CRIME-style attacks; renegotiation is a DoS lever and TLS 1.3
  // has none anyway.
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle keep-alive and pooled connections would otherwise each hold about 34 KiB of
  // OpenSSL record buffers (nginx sets this too).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  return context;
}

Status UseIdentity(SSL_CTX* native, const TlsOptions& options, bool required) {
  if (options.certificate_chain.empty() && !options.private_key) {
    if (required) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a TLS server needs a certificate chain and a private key");
    }
    return Ok();
  }
  if (options.certificate_chain.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a TLS private key was given without a certificate");
  }
  const crypto::Certificate& leaf = options.certificate_chain.front();
  if (!options.private_key) {
    return Fail(ErrorCode::kInvalidArgument, "no private key for the TLS certificate {}",
                leaf.Subject());
  }
  if (SSL_CTX_use_certificate(native, leaf.native()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "using TLS certificate {}: {}", leaf.Subject(),
                OpenSslReason("refused"));
  }
  for (size_t i = 1; i < options.certificate_chain.size(); ++i) {
    const crypto::Certificate& intermediate = options.certificate_chain[i];
    if (SSL_CTX_add1_chain_cert(native, intermediate.native()) != 1) {
      return Fail(ErrorCode::kInvalidArgument, "adding chain certificate {}: {}",
                  intermediate.Subject(), OpenSslReason("refused"));
    }
  }
  // Checked first: SSL_CTX_use_PrivateKey would refuse a mismatch with only
  // OpenSSL's terse "key values mismatch".
  if (X509_check_private_key(leaf.native(), options.private_key->native()) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument,
                "the TLS private key does not match the certificate {} (sha256 {})", leaf.Subject(),
                leaf.Sha256Fingerprint());
  }
  if (SSL_CTX_use_PrivateKey(native, options.private_key->native()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "using the TLS private key for {}: {}", leaf.Subject(),
                OpenSslReason("refused"));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "checking the TLS private key for {}: {}",
                leaf.Subject(), OpenSslReason("refused"));
  }
  return Ok();
}

Status AddTrustAnchors(SSL_CTX* native, const TlsOptions& options, bool advertise) {
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  for (const crypto::Certificate& anchor : options.trust_anchors) {
    if (X509_STORE_add_cert(store, anchor.native()) != 1) {
      return Fail(ErrorCode::kInvalidArgument, "adding trust anchor {}: {}", anchor.Subject(),
                  OpenSslReason("refused"));
    }
    // Tells clients which issuers the server accepts, so a client holding several
    // identities can pick the right one.
    if (advertise && SSL_CTX_add_client_CA(native, anchor.native()) != 1) {
      return Fail(ErrorCode::kInvalidArgument, "advertising trust anchor {}: {}", anchor.Subject(),
                  OpenSslReason("refused"));
    }
  }
  return Ok();
}

}  // namespace

Result<std::shared_ptr<SslContext>> MakeServerTlsContext(const TlsOptions& options) {
  TROAD_ASSIGN_OR_RETURN(std::shared_ptr<SslContext> context,
                         NewContext(SslContext::tls_server, options.tls13_only));
  SSL_CTX* native = context->native_handle();
  TROAD_RETURN_IF_ERROR(UseIdentity(native, options, /*required=*/true));

  const bool ask_for_peer = options.require_peer_certificate || options.request_peer_certificate;
  if (ask_for_peer && options.trust_anchors.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a TLS server that asks for client certificates needs trust anchors");
  }
  TROAD_RETURN_IF_ERROR(AddTrustAnchors(native, options, ask_for_peer));
  int mode = SSL_VERIFY_NONE;
  if (options.require_peer_certificate) {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  } else if (options.request_peer_certificate) {
    mode = SSL_VERIFY_PEER;
  }
  SSL_CTX_set_verify(native, mode, nullptr);
  // OpenSSL refuses to resume a session on a server that verifies peers unless the
  // sessions are bound to a context id; resumption keeps pooled reconnects cheap.
  static constexpr unsigned char kSessionIdContext[] = "troad";
  SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  // A troad client keeps one session per server; OpenSSL's default of two TLS 1.3
  // tickets per handshake would only cost an extra encryption and record.
  SSL_CTX_set_num_tickets(native, 1);
  return context;
}

Result<std::shared_ptr<SslContext>> MakeServerTlsContextFromFiles(const std::string& certificate,
                                                                  const std::string& key) {
  if (certificate.empty() && key.empty()) return std::shared_ptr<SslContext>();
  TlsOptions tls;
  auto pem = ReadFile(certificate);
  if (!pem) return Fail(std::move(pem.error()).Context("tls_certificate"));
  auto chain = crypto::Certificate::ChainFromPem(*pem);
  if (!chain) return Fail(std::move(chain.error()).Context("tls_certificate " + certificate));
  if (chain->empty()) {
    return Fail(ErrorCode::kInvalidArgument, "tls_certificate {} holds no certificate",
                certificate);
  }
  tls.certificate_chain = std::move(*chain);
  auto private_key = crypto::PrivateKey::LoadPemFile(key);
  if (!private_key) return Fail(std::move(private_key.error()).Context("tls_key"));
  tls.private_key = std::move(*private_key);
  tls.tls13_only = false;
  return MakeServerTlsContext(tls);
}

Result<std::shared_ptr<SslContext>> MakeClientTlsContext(const TlsOptions& options) {
  if (options.trust_anchors.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a TLS client context needs trust anchors to verify servers against");
  }
  TROAD_ASSIGN_OR_RETURN(std::shared_ptr<SslContext> context,
                         NewContext(SslContext::tls_client, options.tls13_only));
  SSL_CTX* native = context->native_handle();
  TROAD_RETURN_IF_ERROR(UseIdentity(native, options, /*required=*/false));
  TROAD_RETURN_IF_ERROR(AddTrustAnchors(native, options, /*advertise=*/false));
  // No host name check: the client pins the server by certificate fingerprint.
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  // The client keeps one session per endpoint itself (see client.cpp); OpenSSL's
  // internal client cache would never be consulted.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return context;
}

Result<std::shared_ptr<SslContext>> MakeClientTlsContextForHost(const crypto::Certificate& ca,
                                                                const std::string& host) {
  TlsOptions options;
  options.trust_anchors = {ca};
  options.tls13_only = false;
  TROAD_ASSIGN_OR_RETURN(auto context, MakeClientTlsContext(options));
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context->native_handle());
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  const int ok = !ec ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (ok != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInvalidArgument, "cannot require the server name \"{}\"",
                EscapeForLog(host));
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return context;
}

}  // namespace troad::http
