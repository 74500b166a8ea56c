# Shared flags for our own targets: warnings as errors, optional sanitizers.
add_library(lxcdn_flags INTERFACE)
target_compile_options(lxcdn_flags INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
# GCC 12 at -O2 reports -Wmismatched-new-delete on Asio coroutine frames (a known false positive:
# the frame is allocated and freed by the same awaitable_frame operators).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(lxcdn_flags INTERFACE $<$<NOT:$<CONFIG:Debug>>:-Wno-mismatched-new-delete>)
endif()
target_include_directories(lxcdn_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)
if(LXCDN_SANITIZE)
  target_compile_options(lxcdn_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                               -fno-sanitize-recover=undefined)
  target_link_options(lxcdn_flags INTERFACE -fsanitize=address,undefined)
endif()
# Fuzz builds (the `fuzz` preset, clang): every target of ours carries libFuzzer's coverage
# instrumentation and ASan+UBSan, so a fuzzer is guided through the libraries it links (only the
# fuzz_* executables link libFuzzer itself, fuzz/CMakeLists.txt). -O1 as libFuzzer's documentation
# advises: several times the executions per second of an unoptimised build. UBSan's `function`
# check is left out: with coverage instrumentation, clang 14 cannot emit its prologue data for
# split coroutine functions ("Cannot represent a difference across sections").
if(LXCDN_FUZZ)
  target_compile_options(lxcdn_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                               -fno-sanitize=function -fno-sanitize-recover=undefined
                                               -fno-omit-frame-pointer -O1)
  target_link_options(lxcdn_flags INTERFACE -fsanitize=address,undefined)
endif()
# ThreadSanitizer cannot be combined with ASan; -O1 keeps the instrumented binary fast enough for
# the integration tests' timeouts.
if(LXCDN_TSAN)
  if(LXCDN_SANITIZE)
    message(FATAL_ERROR "LXCDN_TSAN and LXCDN_SANITIZE exclude each other")
  endif()
  # Asio's fenced blocks use std::atomic_thread_fence, which TSan does not model (GCC refuses it
  # under -Werror=tsan). Every hand-over between threads in Asio also goes through its
  # scheduler's mutex, which TSan does see, so the TSan build drops the fences.
  target_compile_options(lxcdn_flags INTERFACE -fsanitize=thread -O1 -fno-omit-frame-pointer)
  target_compile_definitions(lxcdn_flags INTERFACE BOOST_ASIO_DISABLE_FENCED_BLOCK)
  # -O1: the same false positive on coroutine frames as optimised builds (see above).
  target_compile_options(lxcdn_flags INTERFACE -Wno-mismatched-new-delete)
  target_link_options(lxcdn_flags INTERFACE -fsanitize=thread)
endif()

# lxcdn_library(NAME SOURCES...) : a static library of ours.
function(lxcdn_library name)
  add_library(${name} STATIC ${ARGN})
  target_link_libraries(${name} PUBLIC lxcdn_flags)
endfunction()

# lxcdn_unit_test(NAME [TSAN] SOURCES... LIBS ...) : a GoogleTest binary registered with CTest,
# label "unit"; TSAN adds label "tsan" (its tests run threads: the tsan preset runs it too, and
# builds it, see CMakePresets.json).
function(lxcdn_unit_test name)
  cmake_parse_arguments(T "TSAN" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest_main GTest::gtest lxcdn_flags)
  add_test(NAME ${name} COMMAND ${name})
  set(labels unit)
  if(T_TSAN)
    list(APPEND labels tsan)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}")
endfunction()
