# Installs a dphys build tree into a fresh prefix and checks that every public header was installed.
# cmake -DBUILD_DIR=<build> -DPREFIX=<prefix> -DCONFIG=<config> -DSOURCE_INCLUDE_DIR=<src>/include
#       -DINCLUDEDIR=<rel include dir> -DCMAKEDIR=<rel config dir> -P install.cmake
foreach(var BUILD_DIR PREFIX SOURCE_INCLUDE_DIR INCLUDEDIR CMAKEDIR)
  if(NOT ${var})
    message(FATAL_ERROR "install.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${rc})")
endif()

foreach(file dphysConfig.cmake dphysConfigVersion.cmake dphysTargets.cmake dphysNativeFlags.cmake)
  if(NOT EXISTS "${PREFIX}/${CMAKEDIR}/${file}")
    message(FATAL_ERROR "not installed: ${PREFIX}/${CMAKEDIR}/${file}")
  endif()
endforeach()

file(GLOB_RECURSE headers RELATIVE "${SOURCE_INCLUDE_DIR}" "${SOURCE_INCLUDE_DIR}/dphys/*.hpp")
if(NOT headers)
  message(FATAL_ERROR "no headers under ${SOURCE_INCLUDE_DIR}/dphys")
endif()
set(missing "")
foreach(header IN LISTS headers)
  if(NOT EXISTS "${PREFIX}/${INCLUDEDIR}/${header}")
    list(APPEND missing "${header}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "headers not installed under ${PREFIX}/${INCLUDEDIR}: ${missing}")
endif()
list(LENGTH headers count)
message(STATUS "installed ${count} headers and the package config into ${PREFIX}")
