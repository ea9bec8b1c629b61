// dphys/population/novelty.hpp — operator (patch type) choice with configured probabilities
// (Genesis S5) and the novelty filter (S6): maximum similarity of a candidate's descriptor to the
// parent's island, accepted when <= threshold. Extension point: the Similarity callable
// double(std::span<const double>, std::span<const double>) (default: cosine_similarity).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <dphys/population/config.hpp>
#include <dphys/population/database.hpp>
#include <dphys/population/selection.hpp>

namespace dphys::population {

/// Cosine similarity a·b/(|a||b|), clamped to [−1, 1] (so threshold 1.0 never rejects); 0 when
/// either vector is zero or the sizes differ.
struct cosine_similarity {
  double operator()(std::span<const double> a, std::span<const double> b) const {
    if (a.size() != b.size() || a.empty()) return 0.0;
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    if (!(aa > 0.0) || !(bb > 0.0)) return 0.0;
    return std::clamp(ab / (std::sqrt(aa) * std::sqrt(bb)), -1.0, 1.0);
  }
};

/// The patch type index into evolution_config::patch_types for birth `birth`, resample
/// `attempt`: drawn with probabilities patch_type_probs.
inline std::size_t choose_patch(const evolution_config& e, std::uint64_t seed, std::uint64_t birth,
                                std::uint32_t attempt = 0) {
  return detail::pick(e.patch_type_probs,
                      detail::unit_double(seed, birth, detail::purpose::patch, attempt, 0));
}

/// Result of one novelty check.
struct novelty_verdict {
  bool accepted = true;
  double max_similarity = -1.0;  ///< −1 when nothing was compared
  std::uint64_t most_similar = no_id;
};

/// Genesis novelty rejection: only when every island is initialised and birth > 0, the
/// descriptor is compared with every candidate on `island` that has a descriptor; accepted iff
/// the maximum similarity <= threshold. The caller resamples up to max_novelty_attempts times
/// and evaluates the last attempt anyway (soft rejection).
template <class Similarity = cosine_similarity>
struct novelty_filter {
  double threshold = 1.0;
  Similarity similarity{};

  template <class Payload>
  novelty_verdict operator()(const program_database<Payload>& db, std::uint32_t island,
                             std::uint64_t birth, std::span<const double> descriptor) const {
    novelty_verdict v;
    if (!db.all_islands_initialised() || birth == 0 || descriptor.empty()) return v;
    for (auto id : db.island(island)) {
      const auto& d = db[id].descriptors;
      if (d.empty()) continue;
      const double s = similarity(descriptor, std::span<const double>(d));
      if (s > v.max_similarity || v.most_similar == no_id) {
        v.max_similarity = s;
        v.most_similar = id;
      }
    }
    v.accepted = v.most_similar == no_id || v.max_similarity <= threshold;
    return v;
  }
};

}  // namespace dphys::population
