#include "publish/retention.hpp"

#include <algorithm>
#include <set>

namespace lxcdn::publish {

retention_plan plan_retention(const std::map<std::string, std::optional<std::int64_t>>& previous,
                              const std::vector<build_id>& candidates, unsigned keep,
                              std::chrono::seconds grace, std::int64_t now) {
  retention_plan plan;
  // product -> (serial -> is a candidate)
  std::map<std::string, std::map<std::string, bool>> by_product;
  std::map<std::string, build_id> ids;  // path -> id
  for (const auto& [path, retired] : previous) {
    auto r = identity_from_path(path);
    if (!r.id) {
      continue;
    }
    ids.emplace(r.id->path(), *r.id);
    if (!retired) {
      by_product[r.id->product()][r.id->serial] = false;
    } else if (*retired + grace.count() > now) {
      plan.in_grace.emplace(*r.id, *retired);
    } else {
      plan.expired.push_back(*r.id);
    }
  }
  for (const auto& c : candidates) {
    ids.emplace(c.path(), c);
    by_product[c.product()][c.serial] = true;
  }
  for (const auto& [product, serials] : by_product) {
    std::size_t rank = serials.size();
    for (const auto& [serial, candidate] : serials) {  // oldest first
      --rank;  // 0 = newest
      auto colon_path = product;
      std::replace(colon_path.begin(), colon_path.end(), ':', '/');
      const auto& id = ids.at(colon_path + "/" + serial);
      if (rank < keep) {
        plan.listed.push_back(id);
        if (candidate) {
          plan.taken.push_back(id);
        }
      } else if (candidate) {
        plan.refused.emplace_back(id, "older than the newest " + std::to_string(keep) +
                                          " builds of " + product);
      } else {
        plan.retired_now.push_back(id);
        plan.in_grace.emplace(id, now);
      }
    }
  }
  std::ranges::sort(plan.listed);
  std::ranges::sort(plan.taken);
  std::ranges::sort(plan.refused);
  std::ranges::sort(plan.retired_now);
  std::ranges::sort(plan.expired);
  return plan;
}

}  // namespace lxcdn::publish
