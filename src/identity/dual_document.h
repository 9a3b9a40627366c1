// Dual-document verification (雙證件): a person proves who they are by two numbers only
// the holder of their papers knows — the health-insurance card number (健保卡卡號) and
// the household registration number (戶號) — checked against the data providers that
// issue them: the household registry (MOI) and the National Health Insurance
// Administration, reached over T-Road through the identity centre's own gateway.
//
// Level 1 (docs/identity.md, "Assurance"): the numbers are written on papers people
// carry, so this method suits a first sign-in and low-risk services, and together with
// another method it meets urn:troad:mfa.
//
// The T-Road checker calls, as the configured client subsystem:
//   GET {gateway}/r1/{household_service}/persons/{nationalId}  → {"household_id", "name"}
//   GET {gateway}/r1/{nhi_service}/insured/{nationalId}        → {"card_number",
//                                                                 "card_status"}
// Both answers are compared here (CompareRegistryRecords, a pure function); the numbers
// typed by the person are never sent anywhere.
//
// Thread-safety: Check may be called from one thread at a time per checker (it keeps a
// connection pool).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace troad::identity {

struct DualDocumentOptions {
  std::string gateway;            // "http://127.0.0.1:8083": the idp's gateway, consumer side
  std::string client;             // "TW/GOV/MODA/idp": the subsystem the idp calls as
  std::string household_service;  // "TW/GOV/MOI/household/registry"
  std::string nhi_service;        // "TW/GOV/NHIA/cards/insured"
  std::chrono::milliseconds timeout{5000};
};

// Who the registries say the person is.
struct RegistryPerson {
  std::string national_id;
  std::string name;
};

// 12 digits (kInvalidArgument otherwise, saying so).
Status ValidateHealthCardNumber(std::string_view number);
// 1 to 16 capital letters and digits (kInvalidArgument otherwise).
Status ValidateHouseholdNumber(std::string_view number);

// The decision, on the two providers' answers. Errors, with a reason for the audit log
// (the person is told only that the numbers do not match):
//   kUnauthenticated  the household number or the card number differs (compared in
//                     constant time), or the card is not valid (reported lost, …);
//   kDataLoss         an answer lacks a field or has the wrong type.
Result<RegistryPerson> CompareRegistryRecords(const nlohmann::json& household_record,
                                              const nlohmann::json& insured_record,
                                              std::string_view national_id,
                                              std::string_view health_card,
                                              std::string_view household_id);

class DualDocumentChecker {
 public:
  virtual ~DualDocumentChecker() = default;
  // kInvalidArgument for malformed numbers; kNotFound when a registry does not know the
  // national id; kUnauthenticated as CompareRegistryRecords; kUnavailable when a
  // provider or the gateway cannot be reached or answers with a fault.
  virtual Result<RegistryPerson> Check(std::string_view national_id, std::string_view health_card,
                                       std::string_view household_id) = 0;
};

// kInvalidArgument when the options are incomplete or malformed (naming the option).
Result<std::unique_ptr<DualDocumentChecker>> MakeTRoadDualDocumentChecker(
    const DualDocumentOptions& options);

}  // namespace troad::identity
