// libFuzzer entry point for the npz target (body: fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return dphys_fuzz::npz(data, size);
}
