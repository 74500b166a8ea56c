# The fuzz targets: name, the file holding its LLVMFuzzerTestOneInput, and the libraries of ours it
# links (in the fuzz build every library carries libFuzzer's coverage instrumentation, see
# cmake/lxcdn.cmake, so the fuzzer is guided through them).
# Seed corpus of each: fuzz/corpus/<name>/. Included by fuzz/CMakeLists.txt and fuzz/replay.cmake.
set(LXCDN_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(LXCDN_FUZZERS normalize_target resolve_range http_head simplestreams_json yaml_config
                  geoip_overrides)
# http::normalize_target: raw request-target -> path below the root.
set(LXCDN_FUZZ_normalize_target_ENTRY target_fuzzer.cpp)
set(LXCDN_FUZZ_normalize_target_LIBS lxcdn_http)
# http::resolve_range: "SIZE\nRANGE".
set(LXCDN_FUZZ_resolve_range_ENTRY range_fuzzer.cpp)
set(LXCDN_FUZZ_resolve_range_LIBS lxcdn_http)
# The bytes of one client connection through net::serve and the origin's handler.
set(LXCDN_FUZZ_http_head_ENTRY http_head_fuzzer.cpp)
set(LXCDN_FUZZ_http_head_LIBS lxcdn_origin lxcdn_net)
# The JSON we read from others: the origin's index.json and images.json (mirror::image_index),
# a mirror's /.lxcdn/status (check-mirror's judge_status).
set(LXCDN_FUZZ_simplestreams_json_ENTRY simplestreams_json_fuzzer.cpp)
set(LXCDN_FUZZ_simplestreams_json_LIBS lxcdn_mirror lxcdn_checkmirror)
# The origin, mirror and publish YAML config parsers, from bytes.
set(LXCDN_FUZZ_yaml_config_ENTRY yaml_config_fuzzer.cpp)
set(LXCDN_FUZZ_yaml_config_LIBS lxcdn_origin lxcdn_mirror lxcdn_publish)
# GeoIP overrides: address and CIDR text, and the `geoip:` section.
set(LXCDN_FUZZ_geoip_overrides_ENTRY geoip_overrides_fuzzer.cpp)
set(LXCDN_FUZZ_geoip_overrides_LIBS lxcdn_geoip)
