# dphys_bench_strategies: CMA-ES (full, sep, IPOP, BIPOP, active), SNES and xNES on the peers' test
# functions (conv), algorithm overhead at dimension 1000, sep-CMA at dimension 100 000, and the
# dimension-40 comparison with pagmo2/DEAP's medians (bench/compare_strategies.sh runs the peers).
add_executable(dphys_bench_strategies ${CMAKE_CURRENT_LIST_DIR}/bench_strategies.cpp)
dphys_configure_own_target(dphys_bench_strategies)

if(DPHYS_BUILD_TESTS)
  add_test(NAME bench_strategies_smoke
    COMMAND dphys_bench_strategies --mode=conv --algos=cma_es,bipop,ipop,sep,active,snes,xnes
            --funcs=sphere,rastrigin --dims=4 --seed-list=1 --budget-mult=200 --wall-cap=5)
  add_test(NAME bench_strategies_overhead_smoke
    COMMAND dphys_bench_strategies --mode=overhead --algos=cma_es,sep,snes,xnes --overhead-dim=30
            --overhead-seconds=0.01)
  add_test(NAME bench_strategies_sep_smoke
    COMMAND dphys_bench_strategies --mode=sep_large --sep-dim=1000 --sep-gens=2)
  set_tests_properties(bench_strategies_smoke bench_strategies_overhead_smoke
    bench_strategies_sep_smoke PROPERTIES LABELS bench)
  # CMA-ES at dimension 40 vs pagmo2/DEAP medians (RESULTS.md), ~20 s: not a unit test.
  add_test(NAME bench_strategies_peers COMMAND dphys_bench_strategies --mode=peers)
  set_tests_properties(bench_strategies_peers PROPERTIES LABELS slow TIMEOUT 900)
endif()
