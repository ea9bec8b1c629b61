// dphys/dphys.hpp — umbrella header: every public header that needs no optional dependency.
#pragma once

#include <dphys/agents/baselines.hpp>
#include <dphys/agents/snn.hpp>
#include <dphys/core/concepts.hpp>
#include <dphys/core/config.hpp>
#include <dphys/core/math.hpp>
#include <dphys/core/parallel.hpp>
#include <dphys/core/random.hpp>
#include <dphys/core/simd.hpp>
#include <dphys/crucibles/rollout.hpp>
#include <dphys/crucibles/viability.hpp>
#include <dphys/envs/chemotaxis.hpp>
#include <dphys/experiments/koki2.hpp>
#include <dphys/genomes/direct.hpp>
#include <dphys/plasticity/eligibility_trace.hpp>
#include <dphys/run/atomic_file.hpp>
#include <dphys/run/build_info.hpp>
#include <dphys/run/evolve.hpp>
#include <dphys/run/jsonl.hpp>
#include <dphys/run/manifest.hpp>
#include <dphys/run/npy.hpp>
#include <dphys/run/run_dir.hpp>
#include <dphys/run/sha256.hpp>
#include <dphys/search/openai_es.hpp>
#include <dphys/version.hpp>
