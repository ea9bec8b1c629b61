# Fails when a doctest test-case name of dphys_tests contains ';'. doctest_discover_tests splits the
# `--list-test-cases` output into a CMake list, so such a name became several CTest tests, each
# matching no test case and passing without running anything (27 test cases were silently skipped
# that way until 2026-12-07). Usage: cmake -DTESTS=<path of dphys_tests> -P check_test_names.cmake
if(NOT TESTS)
  message(FATAL_ERROR "check_test_names.cmake: pass -DTESTS=<path of dphys_tests>")
endif()
execute_process(COMMAND "${TESTS}" --list-test-cases --no-version
  OUTPUT_VARIABLE _out RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "check_test_names.cmake: '${TESTS} --list-test-cases' failed (exit ${_rc})")
endif()
string(REPLACE ";" "<semicolon>" _out "${_out}")
string(REPLACE "\n" ";" _lines "${_out}")
set(_bad "")
set(_count 0)
foreach(_line IN LISTS _lines)
  if(_line MATCHES "<semicolon>")
    string(REPLACE "<semicolon>" ";" _line "${_line}")
    string(APPEND _bad "\n  ${_line}")
  endif()
  math(EXPR _count "${_count} + 1")
endforeach()
if(_bad)
  message(FATAL_ERROR "test-case names with ';' (CTest would run none of them; use ',' instead):"
    "${_bad}")
endif()
message(STATUS "${_count} lines of test-case names, none with ';'")
