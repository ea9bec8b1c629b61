# dphys_target_warnings(<target>): warning flags for dphys's own tests, examples and benchmarks.
# Never put on dphys::dphys: warning policy belongs to the consumer.
include_guard(GLOBAL)
include(CheckCXXSourceCompiles)
include(dphysNativeFlags)

# GCC 12 warns about its own AVX-512 intrinsics (avx512fintrin.h: `__m512i __Y = __Y;` in
# _mm512_undefined_epi32, GCC bug 105593): every xsimd::batch on avx512 inlines some, giving
# dozens of -W(maybe-)uninitialized warnings that are not about our code. Silence those two only
# for GCC 12 with AVX-512 enabled by dphys::native; clang and other GCC builds keep them.
set(_dphys_gcc12_avx512 OFF)
dphys_native_flags(_dphys_warnings_native_flags)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND DPHYS_NATIVE AND _dphys_warnings_native_flags)
  set(CMAKE_REQUIRED_FLAGS "${_dphys_warnings_native_flags}")
  check_cxx_source_compiles("
    #ifndef __AVX512F__
    #error no AVX-512
    #endif
    int main() { return 0; }" DPHYS_NATIVE_HAS_AVX512)
  unset(CMAKE_REQUIRED_FLAGS)
  set(_dphys_gcc12_avx512 ${DPHYS_NATIVE_HAS_AVX512})
endif()

function(dphys_target_warnings target)
  target_compile_options(${target} PRIVATE
    "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall;-Wextra;-Wpedantic>"
    "$<$<CXX_COMPILER_ID:MSVC>:/W4;/permissive->")
  if(_dphys_gcc12_avx512)
    target_compile_options(${target} PRIVATE -Wno-uninitialized -Wno-maybe-uninitialized)
  endif()
  if(DPHYS_WARNINGS_AS_ERRORS)
    # COMPILE_WARNING_AS_ERROR needs CMake 3.24; dphys supports 3.23.
    target_compile_options(${target} PRIVATE
      "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Werror>"
      "$<$<CXX_COMPILER_ID:MSVC>:/WX>")
  endif()
endfunction()
