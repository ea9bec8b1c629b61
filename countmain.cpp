#include <cstdint>
#include <cstdio>
namespace dphys::agents { std::uint64_t g_steps, g_fired, g_lanefired; }
using namespace dphys::agents;
struct P { ~P(){ std::fprintf(stderr,"steps %llu mean n_fired %.2f mean lanes per fired %.2f\n",(unsigned long long)g_steps,(double)g_fired/g_steps,(double)g_lanefired/g_fired);} } p_;
