// Fetching one person's dataset over T-Road (docs/mydata.md, "Fetching"): MyData asks its
// own consumer gateway, as any information system does,
//   GET {gateway}/r1/{service}{path with the national id}
//   X-Road-Client: {MyData's subsystem}
//   X-Road-Issue: {the transaction id}       (both gateways' transfer records name it)
//   X-Road-Want-Signature: 1                 (docs/protocol.md §1)
// and keeps the answer only if it came with the provider's signature (the response
// header, the signature part and the signing certificate the gateway verified): data
// that is not signed is never put in a package.
//
// The names of the headers are the protocol's; they are repeated here because mydata
// does not link the gateway (it is one of its clients, over HTTP).
//
// Thread-safety: BuildFetchRequest and PartFromResponse are pure; FetchDataset runs on the
// caller's executor and uses the client's pool (it takes its arguments by value: a
// coroutine outlives the caller's temporaries).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "core/ids.h"
#include "core/result.h"
#include "http/client.h"
#include "mydata/catalogue.h"
#include "mydata/package.h"

namespace troad::mydata {

struct FetchOptions {
  std::string gateway_url;  // MyData's consumer gateway: "http://127.0.0.1:8080"
  ClientId client;          // MyData's subsystem: TW/GOV/MODA/mydata
  std::chrono::milliseconds timeout{10'000};
};

// The request for `dataset` of the person `national_id` in `transaction`: target
// "/r1/{service}{path}" (relative to the gateway URL's path). kInvalidArgument for a
// malformed national id or gateway URL.
Result<http::Request> BuildFetchRequest(const FetchOptions& options, const Dataset& dataset,
                                        std::string_view national_id, std::string_view transaction);

// The part the answer makes, or why there is none:
//  - kDeadlineExceeded: the provider did not answer — a fault of type …NetworkError
//    (its backend unreachable or too slow) or …Timeout; the live platform's 504;
//  - kUnavailable: the gateways refused or failed otherwise (X-Road-Error; the fault
//    type and message are in the error), or the provider answered with an error status;
//  - kNotFound: the provider has no such record of this person (404);
//  - kUnauthenticated: the answer lacks the provider's signature;
//  - kInvalidArgument: a media type other than the dataset's, an empty or malformed body
//    (JSON datasets are parsed), or signature headers that are not base64.
Result<PackagePart> PartFromResponse(const Dataset& dataset, const http::Response& response);

boost::asio::awaitable<Result<PackagePart>> FetchDataset(http::Client& client, FetchOptions options,
                                                         Dataset dataset, std::string national_id,
                                                         std::string transaction);

}  // namespace troad::mydata
