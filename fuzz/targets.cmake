# The fuzz targets: name, the file holding its LLVMFuzzerTestOneInput, and the sources under test
# (compiled into the fuzzer itself so that libFuzzer's coverage instrumentation reaches them).
# Seed corpus of each: fuzz/corpus/<name>/. Included by fuzz/CMakeLists.txt and fuzz/replay.cmake.
set(LXCDN_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(LXCDN_FUZZERS normalize_target resolve_range)
set(LXCDN_FUZZ_normalize_target_ENTRY target_fuzzer.cpp)
set(LXCDN_FUZZ_normalize_target_UNDER_TEST ${PROJECT_SOURCE_DIR}/src/http/target.cpp)
set(LXCDN_FUZZ_resolve_range_ENTRY range_fuzzer.cpp)
set(LXCDN_FUZZ_resolve_range_UNDER_TEST ${PROJECT_SOURCE_DIR}/src/http/range.cpp)
