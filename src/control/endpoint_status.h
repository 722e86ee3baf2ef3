#pragma once
// The endpoint lifecycle as one explicit state machine. Every status change in thaw goes through
// Transition(); the unit tests enumerate every (status, event) pair.
//
//   Creating ──DeploySucceeded──▶ InService ──Update──▶ Updating ──DeploySucceeded──▶ InService
//      │                             │  ▲                  │
//      └──DeployFailed──▶ Failed     │  └──DeployFailed────┘  (old config keeps serving)
//                           │        │
//                           └─Delete─┴─Delete──▶ Deleting ──Deleted──▶ (gone)

#include <optional>
#include <string_view>

#include "common/status.h"

namespace thaw::control {

enum class EndpointStatus {
  kOutOfService,
  kCreating,
  kUpdating,
  kSystemUpdating,
  kRollingBack,
  kInService,
  kDeleting,
  kFailed,
};

enum class EndpointEvent {
  kUpdate,           // UpdateEndpoint accepted
  kDelete,           // DeleteEndpoint accepted
  kDeploySucceeded,  // the deploy job finished well
  kDeployFailed,     // the deploy job failed
  kDeleted,          // the delete job finished
};

std::string_view StatusName(EndpointStatus s);
std::optional<EndpointStatus> ParseStatus(std::string_view name);

// The status after `event`, or kFailedPrecondition with AWS's wording when the event is not
// allowed in `from`. `arn` is used in the message. kDeleted yields kDeleting (the row goes away).
Result<EndpointStatus> Transition(EndpointStatus from, EndpointEvent event, std::string_view arn);

// Whether a runtime request may be served (InService, or Updating on the old config).
bool IsInvocable(EndpointStatus s);

}  // namespace thaw::control
