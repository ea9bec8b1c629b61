# N-body benchmarks (dphys/nbody): force-pass throughput (SIMD vs scalar) and Galaxy's suite (G7).
add_executable(dphys_bench_nbody ${CMAKE_CURRENT_LIST_DIR}/bench_nbody.cpp)
dphys_configure_own_target(dphys_bench_nbody)

# Smoke runs (tiny sizes, no timing asserted): the documented command lines keep working.
if(DPHYS_BUILD_TESTS)
  add_test(NAME bench_nbody_smoke_force
    COMMAND dphys_bench_nbody --mode=force --n=16,33 --min_seconds=0 --reps=1)
  add_test(NAME bench_nbody_smoke_suite
    COMMAND dphys_bench_nbody --mode=suite --suite.particle_counts=10,20 --suite.steps=3
            --suite.timing_repeats=1)
  set_tests_properties(bench_nbody_smoke_force bench_nbody_smoke_suite PROPERTIES LABELS bench)
endif()
