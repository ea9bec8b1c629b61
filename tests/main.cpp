// The one main() of dphys_tests; test cases live in tests/test_<area>.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
