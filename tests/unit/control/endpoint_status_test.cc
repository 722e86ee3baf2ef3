#include "control/endpoint_status.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

namespace thaw::control {
namespace {

using S = EndpointStatus;
using E = EndpointEvent;

constexpr S kAll[] = {S::kOutOfService, S::kCreating,  S::kUpdating, S::kSystemUpdating,
                      S::kRollingBack,  S::kInService, S::kDeleting, S::kFailed};
constexpr E kEvents[] = {E::kUpdate, E::kDelete, E::kDeploySucceeded, E::kDeployFailed,
                         E::kDeleted};

// Every legal transition; everything else must be refused.
const std::map<std::pair<S, E>, S>& Legal() {
  static const std::map<std::pair<S, E>, S> kLegal = {
      {{S::kInService, E::kUpdate}, S::kUpdating},
      {{S::kInService, E::kDelete}, S::kDeleting},
      {{S::kFailed, E::kDelete}, S::kDeleting},
      {{S::kOutOfService, E::kDelete}, S::kDeleting},
      {{S::kCreating, E::kDeploySucceeded}, S::kInService},
      {{S::kCreating, E::kDeployFailed}, S::kFailed},
      {{S::kUpdating, E::kDeploySucceeded}, S::kInService},
      {{S::kUpdating, E::kDeployFailed}, S::kInService},
      {{S::kDeleting, E::kDeleted}, S::kDeleting},
  };
  return kLegal;
}

TEST(EndpointStatus, EveryPairIsLegalOrRefused) {
  for (S from : kAll) {
    for (E ev : kEvents) {
      auto got = Transition(from, ev, "arn:x");
      auto it = Legal().find({from, ev});
      if (it != Legal().end()) {
        ASSERT_TRUE(got.ok()) << StatusName(from) << " " << static_cast<int>(ev);
        EXPECT_EQ(*got, it->second);
      } else {
        EXPECT_FALSE(got.ok()) << StatusName(from) << " " << static_cast<int>(ev);
      }
    }
  }
}

TEST(EndpointStatus, InProgressRefusalUsesAwsWording) {
  for (S from : {S::kCreating, S::kUpdating, S::kDeleting}) {
    for (E ev : {E::kUpdate, E::kDelete}) {
      auto got = Transition(from, ev, "arn:aws:sagemaker:us-east-1:1:endpoint/x");
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), Code::kFailedPrecondition);
      EXPECT_EQ(got.status().message(),
                "Cannot update in-progress endpoint \"arn:aws:sagemaker:us-east-1:1:endpoint/x\".");
    }
  }
}

TEST(EndpointStatus, JobEventsOutOfPlaceAreBugsNotUserErrors) {
  auto got = Transition(S::kInService, E::kDeploySucceeded, "a");
  EXPECT_EQ(got.status().code(), Code::kInternal);
}

TEST(EndpointStatus, NamesRoundTrip) {
  for (S s : kAll) EXPECT_EQ(ParseStatus(StatusName(s)), std::optional<S>(s));
  EXPECT_FALSE(ParseStatus("inservice"));
  EXPECT_TRUE(IsInvocable(S::kInService));
  EXPECT_TRUE(IsInvocable(S::kUpdating));
  EXPECT_FALSE(IsInvocable(S::kCreating));
  EXPECT_FALSE(IsInvocable(S::kFailed));
}

}  // namespace
}  // namespace thaw::control
