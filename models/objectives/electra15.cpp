// objective "electra15": ELECTRA 15% (Clark et al. 2020 §3.5, Table 5). Exactly "electra"
// (same networks, same corruption, same MLM loss) except that the discriminator's loss counts
// only the masked positions — the ~15% of tokens the generator may have replaced — instead of
// every non-pad token. The smallest objective: docs/objectives.md uses it as the example.
#include "models/objectives/registry.hpp"
#include "models/objectives/steps.hpp"

namespace electra {
namespace {

// [B, L] in `dtype` on the CPU: 1 at every masked position (masked_weights > 0), else 0.
Tensor masked_position_weights(const MaskedBatch& host_batch, DType dtype) {
  const Tensor positions = host_batch.masked_positions.to(Device::cpu);
  const Tensor weights = host_batch.masked_weights.to(Device::cpu).to(DType::f64);
  const std::int64_t batch_size = positions.dim(0), predictions = positions.dim(1);
  const std::int64_t length = host_batch.original.input_ids.dim(1);
  Tensor result = Tensor::zeros({batch_size, length}, DType::f64);
  for (std::int64_t b = 0; b < batch_size; ++b)
    for (std::int64_t p = 0; p < predictions; ++p)
      if (weights.data<double>()[b * predictions + p] > 0.0)
        result.data<double>()[b * length + positions.data<std::int32_t>()[b * predictions + p]] = 1;
  return result.to(dtype);
}

}  // namespace

StepOutput electra15_forward(const ObjectiveNetworks& networks, Tape& tape,
                             const MaskedBatch& batch, const MaskedBatch& host_batch,
                             const ObjectiveDraw& draw) {
  // The one difference from "electra": only the masked positions count.
  return replaced_token_detection(networks, tape, batch, host_batch, draw,
                                  masked_position_weights(host_batch, networks.dtype));
}

ObjectiveSpec electra15_objective() {
  ObjectiveSpec spec;
  spec.name = "electra15";
  spec.summary = "ELECTRA with the disc loss over the masked ~15% only (paper Table 5 ablation)";
  spec.forward = electra15_forward;
  spec.gradient_boundaries = replaced_token_boundaries();
  return spec;
}

}  // namespace electra
