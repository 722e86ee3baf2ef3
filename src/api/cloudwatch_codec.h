#pragma once
// The three wire forms of the CloudWatch API (sagemaker-api.md §1.4, modern-clients.md §2-4),
// converted to and from one protocol-neutral JSON tree that cloudwatch_ops reads and writes:
//
//   awsQuery       form-encoded `A.member.1.B=v` in  → {"A":[{"B":"v"}]} (scalars stay strings;
//                  ops read them leniently); XML out, <member> lists, <entry> maps, ISO times
//   awsJson1_0     JSON in and out; timestamps epoch-second numbers
//   rpc-v2-cbor    CBOR in (nlohmann's decoder: indefinite lengths, half floats; tag 1 is
//                  dropped, leaving the epoch number — after a pass that rewrites one-byte tag
//                  heads, which nlohmann 3.11.2 rejects) and CBOR out
//
// In the neutral tree a timestamp is a number of epoch seconds under a key named "Timestamp"
// or "Timestamps" — the only timestamp members of these three operations' outputs — which is
// how the XML and CBOR writers know to format or tag it.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::api {

inline constexpr std::string_view kCloudWatchXmlns =
    "http://monitoring.amazonaws.com/doc/2010-08-01/";

// Parses an awsQuery body. Sets `action` from Action=; the tree holds every other member.
Result<nlohmann::json> DecodeQueryForm(std::string_view body, std::string& action);
Result<nlohmann::json> DecodeCbor(std::string_view body);

// <{op}Response xmlns=…><{op}Result>…</{op}Result><ResponseMetadata>…</…></{op}Response>
std::string EncodeQueryXml(std::string_view op, const nlohmann::json& result,
                           std::string_view request_id);
std::string EncodeQueryErrorXml(std::string_view type, std::string_view code,
                                std::string_view message, std::string_view request_id);
// CBOR with doubles as float64, timestamps as tag 1 + uint/float64.
// Container headers and the tag are written here; scalars by nlohmann::json::to_cbor.
std::string EncodeCbor(const nlohmann::json& value);

}  // namespace thaw::api
