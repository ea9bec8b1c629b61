# Surrogate crucible throughput (dphys/surrogate): candidate programs evaluated per second.
add_executable(dphys_bench_surrogate ${CMAKE_CURRENT_LIST_DIR}/bench_surrogate.cpp)
dphys_configure_own_target(dphys_bench_surrogate)

if(DPHYS_BUILD_TESTS)
  add_test(NAME bench_surrogate_smoke
    COMMAND dphys_bench_surrogate --n=5 --steps=3 --min_seconds=0)
  set_tests_properties(bench_surrogate_smoke PROPERTIES LABELS bench)
endif()
