// libFuzzer entry point for the npy target (body: fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return dphys_fuzz::npy(data, size);
}
