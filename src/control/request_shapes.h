#pragma once
// Shape and constraint checks of the Create* requests, per the botocore service models (old 1.29
// and new 1.43: the union of what both accept, with the limits of each). They only look at the
// request; whether named resources exist is the control plane's business.

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "control/validation.h"

namespace thaw::control {

// Each returns the document to store: the request as given, minus nothing, plus AWS's defaults
// (container Mode, variant weight).
Result<nlohmann::json> CheckCreateModel(const nlohmann::json& body);
Result<nlohmann::json> CheckCreateEndpointConfig(const nlohmann::json& body);

// Tags: ≤ 50, Key 1..128, Value 0..256; violations go to the field's validator.
void CheckTags(Field& body);

bool IsServerless(const nlohmann::json& config_doc);

}  // namespace thaw::control
