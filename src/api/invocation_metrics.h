#pragma once
// The one place that turns an invocation's outcome (fleet terms) into a metrics record, so the
// invoke path makes a single call (RuntimeApi::Invoke) and knows nothing of metric names.

#include <cstddef>
#include <string>

#include "common/clock.h"
#include "fleet/pool.h"
#include "metrics/record.h"

namespace thaw::api {

// `started`: when the request reached the runtime API; `now`: when its outcome was known.
// OverheadLatency is the difference minus ModelLatency: routing, admission, the wait for a
// cold start, thaw's own I/O. served_by_provisioned is approximated as "the variant has
// ProvisionedConcurrency and this request did not wait for a cold start" (the fleet does not
// yet say which worker class served it).
metrics::InvocationRecord MakeInvocationRecord(const fleet::VariantSpec& spec,
                                               const fleet::InvokeResult& result, size_t bytes_in,
                                               WallTime started, WallTime now);

}  // namespace thaw::api
