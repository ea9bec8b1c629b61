# dphys_tutorial_program(MARKDOWN OUT_SOURCE OUT_EXPECTED START_MARKER END_MARKER)
#
# A tutorial page whose ```cpp blocks, in order, form one program (docs/tutorials/*.md): writes
# their concatenation to OUT_SOURCE and the page's transcript of the program's output (the lines
# after the line START_MARKER, up to the line that starts with END_MARKER) to OUT_EXPECTED. Files
# are rewritten only when their content changes; the page is a configure dependency, so editing it
# re-extracts both. Fails the configure step with the page's name if a part is missing.

# Writes content to file unless it already holds exactly that (so its dependents are not rebuilt).
function(_dphys_write_if_changed file content)
  set(old "")
  if(EXISTS "${file}")
    file(READ "${file}" old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${file}" "${content}")
  endif()
endfunction()

function(dphys_tutorial_program markdown out_source out_expected start_marker end_marker)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${markdown}")
  file(READ "${markdown}" text)
  # CMake lists split at ';', which C++ is full of: protect them while the blocks are a list.
  string(REPLACE ";" "<dphys-semicolon>" text "${text}")
  string(REGEX MATCHALL "```cpp\n[^`]*```" blocks "${text}")
  if(NOT blocks)
    message(FATAL_ERROR "${markdown}: no ```cpp blocks")
  endif()
  set(source "// Generated from ${markdown} by cmake/dphysTutorialProgram.cmake: edit the page.\n")
  foreach(block IN LISTS blocks)
    string(REGEX REPLACE "^```cpp\n" "" block "${block}")
    string(REGEX REPLACE "```$" "" block "${block}")
    string(APPEND source "${block}")
  endforeach()
  string(REPLACE "<dphys-semicolon>" ";" source "${source}")
  string(REPLACE "<dphys-semicolon>" ";" text "${text}")

  string(FIND "${text}" "${start_marker}\n" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "${markdown}: no transcript line '${start_marker}'")
  endif()
  string(LENGTH "${start_marker}\n" skip)
  math(EXPR start "${start} + ${skip}")
  string(SUBSTRING "${text}" ${start} -1 rest)
  string(FIND "${rest}" "\n${end_marker}" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${markdown}: the transcript after '${start_marker}' has no line '${end_marker}...'")
  endif()
  math(EXPR end "${end} + 1")  # keep the last line's newline
  string(SUBSTRING "${rest}" 0 ${end} expected)

  _dphys_write_if_changed("${out_source}" "${source}")
  _dphys_write_if_changed("${out_expected}" "${expected}")
endfunction()
