#pragma once
// Which Philox stream each random draw of the model uses, so that every draw is a pure function
// of (seed, step, purpose) and a resumed run repeats an uninterrupted one exactly. Streams are
// 32-bit; the model keeps to its own high ranges so it never meets data/'s masking streams.
//   parameter init  0x1000'0000, Philox key seed ⊕ FNV-1a-64(parameter name), counter 0: keyed
//                   by the name, not the registration index, so a layer added, removed or moved
//                   never changes another parameter's initial values
//   dropout         0x2000'0000 + site (network·4096 + site within the network), counter step·2³²
//   sampling        0x3000'0000, counter step·2³²
// step·2³² leaves 2³² element indices per step and stream: more than any tensor we draw for
// (the largest, attention probabilities at base size, has 256·12·512·512 ≈ 8·10⁸ elements).
#include <cstdint>
#include <string_view>

#include "engine/kernels.hpp"

namespace electra::streams {

constexpr std::uint32_t parameter_init_base = 0x10000000u;
constexpr std::uint32_t dropout_base = 0x20000000u;
constexpr std::uint32_t gumbel_sampling = 0x30000000u;

// Dropout sites: each network owns 4096 of them; site 0 is the embeddings, then three per layer.
constexpr std::uint32_t sites_per_network = 4096;
constexpr std::uint32_t generator_sites = 0;
constexpr std::uint32_t discriminator_sites = sites_per_network;
constexpr std::uint32_t embedding_site = 0;
inline std::uint32_t attention_probs_site(std::int64_t layer) {
  return 1 + 3 * static_cast<std::uint32_t>(layer);
}
inline std::uint32_t attention_output_site(std::int64_t layer) {
  return 2 + 3 * static_cast<std::uint32_t>(layer);
}
inline std::uint32_t ffn_output_site(std::int64_t layer) {
  return 3 + 3 * static_cast<std::uint32_t>(layer);
}

inline std::uint64_t step_counter(std::uint64_t step) { return step << 32; }

// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3): a stable hash of a
// parameter name, the same on every platform, compiler and build.
constexpr std::uint64_t fnv1a_64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// The name goes into the Philox key (64-bit, so two names of one model never share a stream);
// the stream stays init's own, so an init draw never meets a dropout, sampling or masking draw.
inline kernels::RandomKey parameter_init_key(std::uint64_t seed, std::string_view parameter_name) {
  return {seed ^ fnv1a_64(parameter_name), parameter_init_base, 0};
}
inline kernels::RandomKey gumbel_key(std::uint64_t seed, std::uint64_t step) {
  return {seed, gumbel_sampling, step_counter(step)};
}

// Where a network's dropout draws come from in one forward pass.
struct DropoutContext {
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  bool training = false;
  std::uint32_t site_base = 0;  // generator_sites or discriminator_sites

  kernels::RandomKey key(std::uint32_t site) const {
    return {seed, dropout_base + site_base + site, step_counter(step)};
  }
};

}  // namespace electra::streams
