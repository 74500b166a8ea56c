#include "selection/mirror.hpp"

namespace lxcdn::selection {

std::string_view to_string(operator_state s) {
  switch (s) {
    case operator_state::active:
      return "active";
    case operator_state::draining:
      return "draining";
    case operator_state::disabled:
      return "disabled";
  }
  return "disabled";
}

std::optional<operator_state> parse_operator_state(std::string_view s) {
  for (auto state : {operator_state::active, operator_state::draining, operator_state::disabled}) {
    if (s == to_string(state)) {
      return state;
    }
  }
  return std::nullopt;
}

}  // namespace lxcdn::selection
