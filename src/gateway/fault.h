// The X-Road fault vocabulary of the gateway, in one place: fault codes, the
// "Client." / "Server.ClientProxy." / "Server.ServerProxy." prefixes, the HTTP status
// of a fault, and the fault response body an information system receives.
//
// Where each shape comes from (nordic-institute/X-Road):
//   - codes: src/common/common-util/.../ErrorCodes.java (X_* constants; names below
//     are spelled exactly as there). "ServiceFailed" is a prefix there
//     (X_SERVICE_FAILED_X): a provider backend failure is
//     "Server.ServerProxy.ServiceFailed.NetworkError" and the like.
//   - prefixes and their meaning: PR-REST §4.6 ("Client" = the consumer information
//     system, "Server.ClientProxy" = the consumer security server,
//     "Server.ServerProxy" = the provider security server).
//   - status and body: ClientRestMessageHandler.sendErrorResponse — 500 when the
//     type starts with "Server.", else 400; header "X-Road-Error: <type>"; body JSON
//     {"type","message","detail"} (in that order), or, when the Accept header names
//     text/xml, application/xml or text/*, the XML document
//     <error><type/><message/><detail/></error>; Content-Type with charset=utf-8.
//     "detail" is an opaque id of the fault (X-Road puts a random UUID there, see
//     CodedException) that the operator finds again in the log.
//   - unknown-exception defaults: ErrorCodes.translateException (IOException →
//     IOError, socket / connect errors → NetworkError, certificate errors →
//     IncorrectCertificate, anything else → InternalError).
//
// Codes marked "troad" have no X-Road counterpart (X-Road checks neither clock skew
// nor message-id replay); they are named in X-Road's style.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "http/types.h"

namespace troad::gateway {

// ---- Fault codes (without prefix) ------------------------------------------------

// Request format (PR-REST §4.6 example 3 uses Client.BadRequest for a request that
// does not follow the protocol).
inline constexpr std::string_view kFaultBadRequest = "BadRequest";
// A well-formed request that cannot be served as asked (e.g. getOpenAPI without
// serviceCode, RestMetadataServiceHandlerImpl).
inline constexpr std::string_view kFaultInvalidRequest = "InvalidRequest";
// X-Road-Client missing or malformed ("The client identifier is missing",
// AbstractClientMessageProcessor.verifyClientStatus).
inline constexpr std::string_view kFaultInvalidClientIdentifier = "InvalidClientIdentifier";
// A protocol version other than r1 (X-Road uses it for SOAP protocolVersion).
inline constexpr std::string_view kFaultInvalidProtocolVersion = "InvalidProtocolVersion";
// X-Road-Security-Server names an unknown server or one not serving the provider.
inline constexpr std::string_view kFaultInvalidSecurityServer = "InvalidSecurityServer";
inline constexpr std::string_view kFaultInvalidHttpMethod = "InvalidHttpMethod";
inline constexpr std::string_view kFaultInvalidContentType = "InvalidContentType";
// A gateway-to-gateway message that cannot be parsed.
inline constexpr std::string_view kFaultInvalidMessage = "InvalidMessage";
inline constexpr std::string_view kFaultMissingHeaderField = "MissingHeaderField";
inline constexpr std::string_view kFaultMissingSignature = "MissingSignature";
// The provider's response does not match the request (client, id, service, hash).
inline constexpr std::string_view kFaultInconsistentResponse = "InconsistentResponse";
// Client not registered, or no address for the provider (getServiceAddresses).
inline constexpr std::string_view kFaultUnknownMember = "UnknownMember";
inline constexpr std::string_view kFaultUnknownService = "UnknownService";
inline constexpr std::string_view kFaultServiceDisabled = "ServiceDisabled";
inline constexpr std::string_view kFaultAccessDenied = "AccessDenied";
inline constexpr std::string_view kFaultInvalidSignatureValue = "InvalidSignatureValue";
inline constexpr std::string_view kFaultCannotCreateSignature = "CannotCreateSignature";
inline constexpr std::string_view kFaultIncorrectCertificate = "IncorrectCertificate";
inline constexpr std::string_view kFaultCertValidation = "CertValidation";
// TLS client authentication of an information system or a peer gateway failed.
inline constexpr std::string_view kFaultSslAuthenticationFailed = "SslAuthenticationFailed";
inline constexpr std::string_view kFaultOutdatedGlobalConf = "OutdatedGlobalConf";
inline constexpr std::string_view kFaultNetworkError = "NetworkError";
inline constexpr std::string_view kFaultIOError = "IOError";
inline constexpr std::string_view kFaultDatabaseError = "DatabaseError";
inline constexpr std::string_view kFaultHttpError = "HttpError";
inline constexpr std::string_view kFaultNotFound = "NotFound";
inline constexpr std::string_view kFaultInternalError = "InternalError";
// Prefixes in X-Road (X_*_X): combine with a code, e.g. ServiceFailed.NetworkError.
inline constexpr std::string_view kFaultServiceFailed = "ServiceFailed";
inline constexpr std::string_view kFaultLoggingFailed = "LoggingFailed";
inline constexpr std::string_view kFaultTimestampingFailed = "TimestampingFailed";
// troad: the message time is outside the allowed clock skew.
inline constexpr std::string_view kFaultInvalidMessageTime = "InvalidMessageTime";
// troad: the message id was already seen from this client (replay).
inline constexpr std::string_view kFaultDuplicateMessageId = "DuplicateMessageId";
// troad: a size or rate limit was hit (body too large, too many requests).
inline constexpr std::string_view kFaultLimitExceeded = "LimitExceeded";

// The header that marks a response as an X-Road fault (PR-REST §4.3).
inline constexpr std::string_view kXRoadErrorHeader = "X-Road-Error";

// ---- Fault types -----------------------------------------------------------------

enum class FaultOrigin {
  kClient,       // the information system's request was wrong: "Client."
  kClientProxy,  // the consumer gateway failed: "Server.ClientProxy."
  kServerProxy,  // the provider gateway (or its backend) failed: "Server.ServerProxy."
};

// "Client.<code>", "Server.ClientProxy.<code>" or "Server.ServerProxy.<code>". A code
// that already carries the prefix is returned unchanged (as CodedException.withPrefix).
std::string FaultType(FaultOrigin origin, std::string_view code);

// "ServiceFailed.<code>": a failure of the provider's backend, reported by the
// provider gateway as Server.ServerProxy.ServiceFailed.<code>.
std::string ServiceFailedCode(std::string_view code);

// 500 for "Server.*" types, 400 for everything else ("Client.*").
unsigned FaultHttpStatus(std::string_view type);

// The fault code for an error: error.fault() when set, else a default per
// ErrorCode (kInvalidArgument → InvalidRequest, kNotFound → NotFound,
// kAlreadyExists → DuplicateMessageId, kPermissionDenied → AccessDenied,
// kUnauthenticated → SslAuthenticationFailed, kFailedPrecondition →
// OutdatedGlobalConf, kResourceExhausted → LimitExceeded, kDeadlineExceeded and
// kUnavailable → NetworkError (X-Road reports connect timeouts as NetworkError),
// kIo → IOError, kDataLoss and kInternal → InternalError).
std::string FaultCodeFor(const Error& error);

// ---- Fault responses -------------------------------------------------------------

enum class FaultFormat { kJson, kXml };

// The body format X-Road picks for a fault: XML when any media range of `accept`
// is text/xml, application/xml or text/* (not excluded with q=0), JSON otherwise,
// including when Accept is absent. Returns the Content-Type to send in
// *content_type when it is not null.
FaultFormat FaultFormatFor(std::string_view accept_header, std::string* content_type = nullptr);

// The fault body alone (see the header comment for the exact shapes). Text that is
// not valid UTF-8 is repaired with U+FFFD; XML-forbidden control characters are
// dropped.
std::string FaultBody(FaultFormat format, std::string_view type, std::string_view message,
                      std::string_view detail);

// A complete fault response: status per FaultHttpStatus(type), X-Road-Error: type,
// Content-Type per FaultFormatFor(accept_header), body per FaultBody.
http::Response MakeFaultResponse(std::string_view type, std::string_view message,
                                 std::string_view detail, std::string_view accept_header,
                                 unsigned http_version, bool keep_alive);

// The same for an Error: type FaultType(origin, FaultCodeFor(error)), message
// error.message().
http::Response MakeFaultResponse(FaultOrigin origin, const Error& error, std::string_view detail,
                                 std::string_view accept_header, unsigned http_version,
                                 bool keep_alive);

}  // namespace troad::gateway
