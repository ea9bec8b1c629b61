# cmake -DPROGRAM=<exe> -DARGS=<args> -DEXPECTED=<file> -DDROP=<prefix> [-DCLEAN=<dir>] -P tutorial_check.cmake
# Runs a tutorial's program and checks that its standard output is the page's transcript, line for
# line, apart from lines starting with DROP (e.g. a run directory's path, which differs per machine).
# CLEAN is removed first (a run directory the program must create anew).
if(DEFINED CLEAN)
  file(REMOVE_RECURSE "${CLEAN}")
endif()
execute_process(COMMAND "${PROGRAM}" ${ARGS} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}:\n${out}\n${err}")
endif()
file(READ "${EXPECTED}" expected)
foreach(var IN ITEMS out expected)
  string(REGEX REPLACE "(^|\n)${DROP}[^\n]*" "" ${var} "${${var}}")
endforeach()
if(NOT out STREQUAL expected)
  message(FATAL_ERROR "${PROGRAM}: the output differs from the tutorial's transcript.\n"
                      "--- expected (${EXPECTED}):\n${expected}\n--- got:\n${out}")
endif()
message(STATUS "${PROGRAM}: output matches the tutorial's transcript")
