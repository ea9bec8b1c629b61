// libFuzzer entry point for the config_json target (body: fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return dphys_fuzz::config_json(data, size);
}
