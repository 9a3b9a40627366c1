#include "identity/dual_document.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/json.h"
#include "crypto/hash.h"
#include "http/client.h"

namespace troad::identity {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::string> StringField(const nlohmann::json& record, const char* name,
                                std::string_view what) {
  auto it = record.find(name);
  if (it == record.end() || !it->is_string()) {
    return Fail(ErrorCode::kDataLoss, "{}: the answer has no string \"{}\"", what, name);
  }
  return it->get<std::string>();
}

class TRoadChecker final : public DualDocumentChecker {
 public:
  TRoadChecker(DualDocumentOptions options, http::ParsedUrl gateway)
      : options_(std::move(options)), gateway_(std::move(gateway)), client_(ClientOptions()) {}

  Result<RegistryPerson> Check(std::string_view national_id, std::string_view health_card,
                               std::string_view household_id) override {
    TROAD_RETURN_IF_ERROR(ValidateHealthCardNumber(health_card));
    TROAD_RETURN_IF_ERROR(ValidateHouseholdNumber(household_id));
    TROAD_ASSIGN_OR_RETURN(
        auto household,
        Get(options_.household_service, "/persons/" + PercentEncode(national_id), "household"));
    TROAD_ASSIGN_OR_RETURN(
        auto insured, Get(options_.nhi_service, "/insured/" + PercentEncode(national_id), "NHI"));
    return CompareRegistryRecords(household, insured, national_id, health_card, household_id);
  }

 private:
  static http::ClientOptions ClientOptions() {
    http::ClientOptions o;
    o.body_limit = 256 * 1024;
    return o;
  }

  Result<nlohmann::json> Get(const std::string& service, const std::string& path,
                             std::string_view what) {
    std::string base = gateway_.path == "/" ? "" : gateway_.path;
    http::Request req(http::bhttp::verb::get, base + "/r1/" + service + path, 11);
    req.set("X-Road-Client", options_.client);
    req.set(http::bhttp::field::accept, "application/json");
    auto res = client_.Send(gateway_.endpoint, std::move(req), options_.timeout);
    if (!res) {
      return Fail(ErrorCode::kUnavailable, "{} registry via T-Road: {}", what,
                  res.error().message());
    }
    unsigned status = res->response.result_int();
    if (status == 404) {
      return Fail(ErrorCode::kNotFound, "the {} registry does not know this national id", what);
    }
    if (status != 200) {
      return Fail(ErrorCode::kUnavailable, "{} registry via T-Road answered HTTP {}: {}", what,
                  status, EscapeForLog(res->response.body(), 200));
    }
    auto json = ParseJson(res->response.body(), std::string(what) + " registry answer", 16);
    if (!json || !json->is_object()) {
      return Fail(ErrorCode::kDataLoss, "the {} registry's answer is not a JSON object", what);
    }
    return std::move(*json);
  }

  DualDocumentOptions options_;
  http::ParsedUrl gateway_;
  http::BlockingClient client_;
};

}  // namespace

Status ValidateHealthCardNumber(std::string_view number) {
  if (number.size() != 12 || !AllDigits(number)) {
    return Fail(ErrorCode::kInvalidArgument, "a health-insurance card number is 12 digits");
  }
  return Ok();
}

Status ValidateHouseholdNumber(std::string_view number) {
  bool ok = !number.empty() && number.size() <= 16 &&
            std::all_of(number.begin(), number.end(),
                        [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument,
                "a household registration number is 1 to 16 capital letters and digits");
  }
  return Ok();
}

Result<RegistryPerson> CompareRegistryRecords(const nlohmann::json& household_record,
                                              const nlohmann::json& insured_record,
                                              std::string_view national_id,
                                              std::string_view health_card,
                                              std::string_view household_id) {
  if (!household_record.is_object() || !insured_record.is_object()) {
    return Fail(ErrorCode::kDataLoss, "a registry answer is not a JSON object");
  }
  TROAD_ASSIGN_OR_RETURN(std::string registered_household,
                         StringField(household_record, "household_id", "household registry"));
  TROAD_ASSIGN_OR_RETURN(std::string name,
                         StringField(household_record, "name", "household registry"));
  TROAD_ASSIGN_OR_RETURN(std::string card, StringField(insured_record, "card_number", "NHI"));
  TROAD_ASSIGN_OR_RETURN(std::string status, StringField(insured_record, "card_status", "NHI"));
  // Both compared, whatever the first gives, so the time taken says nothing.
  bool household_ok = crypto::ConstantTimeEqual(registered_household, household_id);
  bool card_ok = crypto::ConstantTimeEqual(card, health_card);
  if (!household_ok) {
    return Fail(ErrorCode::kUnauthenticated, "the household registration number does not match");
  }
  if (!card_ok) return Fail(ErrorCode::kUnauthenticated, "the health card number does not match");
  if (status != "valid") {
    return Fail(ErrorCode::kUnauthenticated, "the health card is not valid ({})",
                EscapeForLog(status, 40));
  }
  return RegistryPerson{std::string(national_id), std::move(name)};
}

Result<std::unique_ptr<DualDocumentChecker>> MakeTRoadDualDocumentChecker(
    const DualDocumentOptions& options) {
  auto gateway = http::ParseUrl(options.gateway);
  if (!gateway) {
    return Fail(ErrorCode::kInvalidArgument, "[dual_document] gateway: {}",
                gateway.error().message());
  }
  if (gateway->endpoint.tls) {
    return Fail(ErrorCode::kInvalidArgument,
                "[dual_document] gateway: the idp reaches its own gateway's consumer side over "
                "http:// on the same host or network (the gateway does TLS to its peers)");
  }
  if (auto c = ClientId::Parse(options.client); !c || !c->is_subsystem()) {
    return Fail(ErrorCode::kInvalidArgument,
                "[dual_document] client: \"{}\" is not a subsystem id (INSTANCE/CLASS/MEMBER/SUB)",
                EscapeForLog(options.client, 100));
  }
  for (const auto& [key, value] : {std::pair{"household_service", &options.household_service},
                                   std::pair{"nhi_service", &options.nhi_service}}) {
    if (!ServiceId::Parse(*value)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "[dual_document] {}: \"{}\" is not a service id (INSTANCE/CLASS/MEMBER/SUB/SERVICE)", key,
          EscapeForLog(*value, 100));
    }
  }
  return std::unique_ptr<DualDocumentChecker>(new TRoadChecker(options, std::move(*gateway)));
}

}  // namespace troad::identity
