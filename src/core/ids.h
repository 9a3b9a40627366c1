// T-Road identifiers: members, subsystems, services and gateways, in the X-Road
// shape. Written as slash-separated paths:
//   member     INSTANCE/CLASS/MEMBER             TW/GOV/MOI
//   subsystem  INSTANCE/CLASS/MEMBER/SUBSYSTEM   TW/GOV/MOI/household
//   service    INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE
//   gateway    INSTANCE/CLASS/MEMBER/GATEWAY     (a security server code)
//
// Each part obeys X-Road's identifier character restrictions (PR-MESS §2.7): not
// empty, at most kMaxIdPartLength bytes of valid UTF-8, and none of ':' ';' '%' '/'
// '\\' or control characters. In REST paths each part may be percent-encoded; the
// parsers here take decoded parts or a path that they decode part by part.
//
// Thread-safety: values.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace troad {

inline constexpr size_t kMaxIdPartLength = 255;

// Checks one identifier part; `what` names it in the error ("member code").
Status ValidateIdPart(std::string_view part, std::string_view what);

// A member, or a subsystem of one (X-Road's client identifier).
struct ClientId {
  std::string instance;
  std::string member_class;
  std::string member_code;
  std::string subsystem;  // empty for a member

  bool is_subsystem() const { return !subsystem.empty(); }
  ClientId Member() const { return {instance, member_class, member_code, {}}; }
  std::string ToString() const;
  auto operator<=>(const ClientId&) const = default;

  // Parses "I/C/M" or "I/C/M/S". Parts are taken literally (no percent-decoding).
  static Result<ClientId> Parse(std::string_view text);
  // Builds from already-separated parts and validates each.
  static Result<ClientId> FromParts(std::string_view instance, std::string_view member_class,
                                    std::string_view member_code, std::string_view subsystem);
};

// A service of a subsystem.
struct ServiceId {
  ClientId provider;  // always a subsystem
  std::string service_code;

  std::string ToString() const;
  auto operator<=>(const ServiceId&) const = default;

  // Parses "I/C/M/S/SERVICE".
  static Result<ServiceId> Parse(std::string_view text);
};

// A gateway (X-Road security server): owned by a member, named by a code.
struct GatewayId {
  ClientId owner;  // a member
  std::string code;

  std::string ToString() const;
  auto operator<=>(const GatewayId&) const = default;

  // Parses "I/C/M/CODE".
  static Result<GatewayId> Parse(std::string_view text);
};

// Splits "a/b/c" on '/', keeping empty parts.
std::vector<std::string_view> SplitPath(std::string_view text);

}  // namespace troad
