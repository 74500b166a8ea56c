#include "geoip/geo_location.hpp"

namespace lxcdn::geoip {

std::string_view to_string(location_source s) {
  switch (s) {
    case location_source::none:
      return "none";
    case location_source::database:
      return "database";
    case location_source::centroid:
      return "centroid";
    case location_source::override:
      return "override";
  }
  return "none";
}

}  // namespace lxcdn::geoip
