#include "core/ids.h"

#include <fmt/format.h>

#include "core/encoding.h"

namespace troad {

Status ValidateIdPart(std::string_view part, std::string_view what) {
  if (part.empty()) return Fail(ErrorCode::kInvalidArgument, "{} is empty", what);
  if (part.size() > kMaxIdPartLength) {
    return Fail(ErrorCode::kInvalidArgument, "{} is longer than {} bytes", what, kMaxIdPartLength);
  }
  if (!IsValidUtf8(part)) {
    return Fail(ErrorCode::kInvalidArgument, "{} is not valid UTF-8", what);
  }
  for (unsigned char c : part) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument, "{} contains a control character", what);
    }
    switch (c) {
      case ':':
      case ';':
      case '%':
      case '/':
      case '\\':
        return Fail(ErrorCode::kInvalidArgument, "{} \"{}\" contains the forbidden character '{}'",
                    what, EscapeForLog(part), static_cast<char>(c));
      default:
        break;
    }
  }
  return Ok();
}

std::vector<std::string_view> SplitPath(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string ClientId::ToString() const {
  if (subsystem.empty()) return fmt::format("{}/{}/{}", instance, member_class, member_code);
  return fmt::format("{}/{}/{}/{}", instance, member_class, member_code, subsystem);
}

Result<ClientId> ClientId::FromParts(std::string_view instance, std::string_view member_class,
                                     std::string_view member_code, std::string_view subsystem) {
  TROAD_RETURN_IF_ERROR(ValidateIdPart(instance, "instance"));
  TROAD_RETURN_IF_ERROR(ValidateIdPart(member_class, "member class"));
  TROAD_RETURN_IF_ERROR(ValidateIdPart(member_code, "member code"));
  if (!subsystem.empty()) TROAD_RETURN_IF_ERROR(ValidateIdPart(subsystem, "subsystem code"));
  return ClientId{std::string(instance), std::string(member_class), std::string(member_code),
                  std::string(subsystem)};
}

Result<ClientId> ClientId::Parse(std::string_view text) {
  auto parts = SplitPath(text);
  if (parts.size() != 3 && parts.size() != 4) {
    return Fail(ErrorCode::kInvalidArgument,
                "client identifier \"{}\" must be INSTANCE/CLASS/MEMBER[/SUBSYSTEM]",
                EscapeForLog(text));
  }
  auto id = FromParts(parts[0], parts[1], parts[2], parts.size() == 4 ? parts[3] : "");
  if (!id)
    return Fail(
        std::move(id).error().Context(fmt::format("client identifier \"{}\"", EscapeForLog(text))));
  if (parts.size() == 4 && parts[3].empty()) {
    return Fail(ErrorCode::kInvalidArgument, "client identifier \"{}\" has an empty subsystem",
                EscapeForLog(text));
  }
  return id;
}

std::string ServiceId::ToString() const {
  return fmt::format("{}/{}", provider.ToString(), service_code);
}

Result<ServiceId> ServiceId::Parse(std::string_view text) {
  auto parts = SplitPath(text);
  if (parts.size() != 5) {
    return Fail(ErrorCode::kInvalidArgument,
                "service identifier \"{}\" must be INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE",
                EscapeForLog(text));
  }
  auto provider = ClientId::FromParts(parts[0], parts[1], parts[2], parts[3]);
  if (!provider) {
    return Fail(std::move(provider).error().Context(
        fmt::format("service identifier \"{}\"", EscapeForLog(text))));
  }
  if (parts[3].empty()) {
    return Fail(ErrorCode::kInvalidArgument, "service identifier \"{}\" has an empty subsystem",
                EscapeForLog(text));
  }
  auto code = ValidateIdPart(parts[4], "service code");
  if (!code) {
    return Fail(std::move(code).error().Context(
        fmt::format("service identifier \"{}\"", EscapeForLog(text))));
  }
  return ServiceId{std::move(*provider), std::string(parts[4])};
}

std::string GatewayId::ToString() const { return fmt::format("{}/{}", owner.ToString(), code); }

Result<GatewayId> GatewayId::Parse(std::string_view text) {
  auto parts = SplitPath(text);
  if (parts.size() != 4) {
    return Fail(ErrorCode::kInvalidArgument,
                "gateway identifier \"{}\" must be INSTANCE/CLASS/MEMBER/CODE", EscapeForLog(text));
  }
  auto owner = ClientId::FromParts(parts[0], parts[1], parts[2], "");
  if (!owner) {
    return Fail(std::move(owner).error().Context(
        fmt::format("gateway identifier \"{}\"", EscapeForLog(text))));
  }
  auto code = ValidateIdPart(parts[3], "gateway code");
  if (!code) {
    return Fail(std::move(code).error().Context(
        fmt::format("gateway identifier \"{}\"", EscapeForLog(text))));
  }
  return GatewayId{std::move(*owner), std::string(parts[3])};
}

}  // namespace troad
