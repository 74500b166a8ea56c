# Corpus replay: every fuzz target's LLVMFuzzerTestOneInput, linked with a plain main instead of
# libFuzzer and built by the normal compiler, runs each file of fuzz/corpus/<name>/ as a CTest test
# (label "unit"). Included from the root CMakeLists.txt in every build.
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)
foreach(fuzzer ${LXCDN_FUZZERS})
  add_executable(fuzz_replay_${fuzzer} ${LXCDN_FUZZ_DIR}/replay_main.cpp
                 ${LXCDN_FUZZ_DIR}/${LXCDN_FUZZ_${fuzzer}_ENTRY})
  target_link_libraries(fuzz_replay_${fuzzer} PRIVATE ${LXCDN_FUZZ_${fuzzer}_LIBS} lxcdn_flags)
  add_test(NAME fuzz_replay.${fuzzer}
           COMMAND fuzz_replay_${fuzzer} ${LXCDN_FUZZ_DIR}/corpus/${fuzzer})
  set_tests_properties(fuzz_replay.${fuzzer} PROPERTIES LABELS unit)
endforeach()
