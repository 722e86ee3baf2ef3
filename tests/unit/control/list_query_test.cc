#include "control/list_query.h"

#include <gtest/gtest.h>

namespace thaw::control {
namespace {

std::vector<ListItem> Items(int n) {
  std::vector<ListItem> out;
  for (int i = 0; i < n; ++i) {
    std::string name = "item-" + std::to_string(100 + i);
    out.push_back({name, FromEpochSeconds(1000 + i), FromEpochSeconds(2000 - i),
                   i % 2 ? "InService" : "Failed", nlohmann::json{{"Name", name}}});
  }
  return out;
}

std::vector<std::string> Names(const ListPage& page) {
  std::vector<std::string> out;
  for (const auto& j : page.items) out.push_back(j["Name"]);
  return out;
}

TEST(ListQuery, DefaultIsTenNewestFirst) {
  auto page = Paginate(Items(12), ListParams{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 10u);
  EXPECT_EQ(page->items.front()["Name"], "item-111");
  EXPECT_TRUE(page->next_token.has_value());
}

TEST(ListQuery, TokensWalkEveryItemOnce) {
  for (const char* sort : {"Name", "CreationTime", "Status"}) {
    for (bool asc : {true, false}) {
      ListParams p;
      p.sort_by = sort;
      p.ascending = asc;
      p.max_results = 3;
      std::vector<std::string> all;
      for (int guard = 0; guard < 10; ++guard) {
        auto page = Paginate(Items(10), p);
        ASSERT_TRUE(page.ok());
        for (auto& n : Names(*page)) all.push_back(n);
        if (!page->next_token) break;
        p.next_token = page->next_token;
      }
      std::vector<std::string> sorted = all;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << sort;
      EXPECT_EQ(all.size(), 10u) << sort << asc;
    }
  }
}

TEST(ListQuery, LastPageHasNoToken) {
  ListParams p;
  p.max_results = 5;
  auto page = Paginate(Items(5), p);
  EXPECT_FALSE(page->next_token.has_value());
  EXPECT_TRUE(Paginate({}, p)->items.empty());
}

TEST(ListQuery, Filters) {
  ListParams p;
  p.max_results = 100;
  p.name_contains = "ITEM-10";  // case-insensitive
  EXPECT_EQ(Paginate(Items(12), p)->items.size(), 10u);
  p = {};
  p.max_results = 100;
  p.creation_after = FromEpochSeconds(1005);   // inclusive
  p.creation_before = FromEpochSeconds(1008);  // exclusive
  EXPECT_EQ(Names(*Paginate(Items(12), p)),
            (std::vector<std::string>{"item-107", "item-106", "item-105"}));
  p = {};
  p.status_equals = "InService";
  p.max_results = 100;
  EXPECT_EQ(Paginate(Items(12), p)->items.size(), 6u);
}

TEST(ListQuery, ForeignTokensAreRefused) {
  ListParams p;
  p.next_token = "garbage";
  EXPECT_EQ(Paginate(Items(3), p).status().code(), Code::kInvalidArgument);
  p.max_results = 1;
  p.next_token.reset();
  auto first = Paginate(Items(3), p);
  p.next_token = first->next_token;
  p.sort_by = "Name";  // a token from another sort order
  EXPECT_FALSE(Paginate(Items(3), p).ok());
}

}  // namespace
}  // namespace thaw::control
