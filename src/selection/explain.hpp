#pragma once

#include <string>

#include "selection/select_mirror.hpp"

namespace lxcdn::selection {

// The decision as JSON, the body the origin returns for `X-LXC-Explain: 1` instead of the
// redirect (docs/geoip.md, "Explain"). `location` is the redirect that would have been sent
// ("" when the origin serves the request itself). One object, keys in a fixed order:
// {"decision":"nearest","redirect":true,"mirror":"eu-fra","location":"https://...",
//  "client":{"address":..,"country":..,"continent":..,"latitude":..,"longitude":..,
//            "source":..,"network":..},
//  "scheme":"https","random":0.25,"band_km":1000,"max_distance_km":0,"nearest_km":402.1,
//  "candidates":[{"name":..,"rule":..,"distance_km":..,"weight":..,"headroom":..,
//                 "slow_start":..,"share":..,"probability":..,"excluded":null|"down"|...},..]}
// Unknown values are null. Pure.
std::string explain_json(const selection& result, const selection_request& request,
                         const selection_settings& settings, std::string_view client_address,
                         std::string_view location);

}  // namespace lxcdn::selection
