# cmake -DFILE=<path> -DLINES=<n> -P count_lines.cmake: fails unless FILE has exactly n non-empty
# lines (used for migrations.jsonl).
file(STRINGS "${FILE}" _lines)
list(LENGTH _lines _n)
if(NOT _n EQUAL LINES)
  message(FATAL_ERROR "${FILE} holds ${_n} lines, expected ${LINES}")
endif()
