# dphys_native_flags(<out-var>): the compile options of dphys::native for the current C++ compiler
# (-march=native if the compiler accepts it, else nothing). Used by dphys's CMakeLists.txt and by
# the installed dphysConfig.cmake, so a consumer's dphys::native is checked against its own compiler.
include_guard(GLOBAL)
include(CheckCXXCompilerFlag)

function(dphys_native_flags out_var)
  set(flags "")
  if(CMAKE_CXX_COMPILER_LOADED)
    check_cxx_compiler_flag(-march=native DPHYS_CXX_ACCEPTS_MARCH_NATIVE)
    if(DPHYS_CXX_ACCEPTS_MARCH_NATIVE)
      set(flags -march=native)
    endif()
  endif()
  set(${out_var} "${flags}" PARENT_SCOPE)
endfunction()
