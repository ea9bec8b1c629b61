# dphys_bench_moo: NSGA-II on ZDT (hypervolume vs the exact true front), GA and DE on sphere and
# Rastrigin with the peers' fields, and ratios against ../shared/peers' pagmo2 results.
add_executable(dphys_bench_moo ${CMAKE_CURRENT_LIST_DIR}/bench_moo.cpp)
dphys_configure_own_target(dphys_bench_moo)

if(DPHYS_BUILD_TESTS)
  add_test(NAME bench_moo_smoke
    COMMAND dphys_bench_moo --seeds=1 --zdt=zdt1,zdt6 --moo_pop=8 --moo_generations=3 --dims=4
            --budget_per_dim=50 --wall_cap=5 --peers=none)
  set_tests_properties(bench_moo_smoke PROPERTIES LABELS bench)
endif()
