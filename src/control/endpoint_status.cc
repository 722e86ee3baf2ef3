#include "control/endpoint_status.h"

#include <array>
#include <string>
#include <utility>

namespace thaw::control {
namespace {

constexpr std::array<std::pair<EndpointStatus, std::string_view>, 8> kNames = {{
    {EndpointStatus::kOutOfService, "OutOfService"},
    {EndpointStatus::kCreating, "Creating"},
    {EndpointStatus::kUpdating, "Updating"},
    {EndpointStatus::kSystemUpdating, "SystemUpdating"},
    {EndpointStatus::kRollingBack, "RollingBack"},
    {EndpointStatus::kInService, "InService"},
    {EndpointStatus::kDeleting, "Deleting"},
    {EndpointStatus::kFailed, "Failed"},
}};

bool InProgress(EndpointStatus s) {
  return s == EndpointStatus::kCreating || s == EndpointStatus::kUpdating ||
         s == EndpointStatus::kSystemUpdating || s == EndpointStatus::kRollingBack ||
         s == EndpointStatus::kDeleting;
}

Status InProgressError(std::string_view arn) {
  return FailedPrecondition("Cannot update in-progress endpoint \"" + std::string(arn) + "\".");
}

Status Illegal(EndpointStatus from, std::string_view what) {
  return Internal("illegal endpoint transition: " + std::string(what) + " in status " +
                  std::string(StatusName(from)));
}

}  // namespace

std::string_view StatusName(EndpointStatus s) {
  for (const auto& [status, name] : kNames) {
    if (status == s) return name;
  }
  return "Unknown";
}

std::optional<EndpointStatus> ParseStatus(std::string_view name) {
  for (const auto& [status, n] : kNames) {
    if (n == name) return status;
  }
  return std::nullopt;
}

Result<EndpointStatus> Transition(EndpointStatus from, EndpointEvent event, std::string_view arn) {
  switch (event) {
    case EndpointEvent::kUpdate:
      if (from == EndpointStatus::kInService) return EndpointStatus::kUpdating;
      if (InProgress(from)) return InProgressError(arn);
      // Failed (and OutOfService): DeleteEndpoint is the only operation AWS allows.
      return FailedPrecondition("Cannot update endpoint \"" + std::string(arn) +
                                "\" because it is in status " + std::string(StatusName(from)) +
                                ". Delete the endpoint and create it again.");
    case EndpointEvent::kDelete:
      if (InProgress(from)) return InProgressError(arn);
      return EndpointStatus::kDeleting;
    case EndpointEvent::kDeploySucceeded:
      if (from == EndpointStatus::kCreating || from == EndpointStatus::kUpdating) {
        return EndpointStatus::kInService;
      }
      return Illegal(from, "DeploySucceeded");
    case EndpointEvent::kDeployFailed:
      if (from == EndpointStatus::kCreating) return EndpointStatus::kFailed;
      if (from == EndpointStatus::kUpdating) return EndpointStatus::kInService;
      return Illegal(from, "DeployFailed");
    case EndpointEvent::kDeleted:
      if (from == EndpointStatus::kDeleting) return EndpointStatus::kDeleting;
      return Illegal(from, "Deleted");
  }
  return Illegal(from, "unknown event");
}

bool IsInvocable(EndpointStatus s) {
  return s == EndpointStatus::kInService || s == EndpointStatus::kUpdating;
}

}  // namespace thaw::control
