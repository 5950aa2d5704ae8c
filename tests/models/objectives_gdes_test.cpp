// GDES (DeBERTaV3, He et al. 2021), embedding_sharing "gdes": the discriminator reads
// stop_gradient(E_G) + E_Δ. At init that is E_G bit for bit; the disc loss trains E_Δ and never
// E_G; the MLM loss trains E_G and never E_Δ; the HF export and fine-tuning see E_G + E_Δ.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "autograd/ops.hpp"
#include "engine/error.hpp"
#include "helpers/cli_run.hpp"
#include "helpers/sample_shards.hpp"
#include "helpers/scratch.hpp"
#include "helpers/two_sequence_batch.hpp"
#include "models/finetuning/finetune.hpp"
#include "models/formats/hf_format.hpp"
#include "models/formats/safetensors.hpp"
#include "models/networks/electra_model.hpp"
#include "models/objectives/gdes.hpp"
#include "models/training/pretrained_model.hpp"

using namespace electra;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> shared_names = {
    "electra.embeddings.word_embeddings.weight", "electra.embeddings.position_embeddings.weight",
    "electra.embeddings.token_type_embeddings.weight", "electra.embeddings.LayerNorm.weight",
    "electra.embeddings.LayerNorm.bias"};
const std::vector<std::string> delta_names = {
    "discriminator.electra.embeddings.word_embeddings_delta.weight",
    "discriminator.electra.embeddings.position_embeddings_delta.weight",
    "discriminator.electra.embeddings.token_type_embeddings_delta.weight",
    "discriminator.electra.embeddings.LayerNorm_delta.weight",
    "discriminator.electra.embeddings.LayerNorm_delta.bias"};

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

double abs_sum(const Var& var) {
  if (!var.has_grad()) return 0.0;
  double total = 0;
  for (const double value : var.grad().to_vector()) total += std::abs(value);
  return total;
}

ModelConfig tiny(const std::string& sharing, const std::string& objective = "electra") {
  ModelConfig config = model_preset("tiny");
  config.vocab_size = 60;
  config.seq_len = 12;
  config.objective = objective;
  config.embedding_sharing = sharing;
  return config;
}

// Two rows of 12 tokens with both token types, 3 masked positions each, ids in [4, 60).
MaskedBatch gdes_batch() { return test::twelve_token_batch(true); }

// A tied and a GDES model from one seed, and one step of each on the same samples.
struct Pair {
  ParameterStore tied_store, gdes_store;
  std::unique_ptr<ElectraModel> tied, gdes;
  Tape tied_tape, gdes_tape;
  StepOutput tied_out, gdes_out;
  explicit Pair(const std::string& objective = "electra") {
    tied = std::make_unique<ElectraModel>(tiny("tied", objective), tied_store, 21);
    gdes = std::make_unique<ElectraModel>(tiny("gdes", objective), gdes_store, 21);
    const MaskedBatch batch = gdes_batch();
    tied_out = tied->forward(tied_tape, batch, 3, /*training=*/true);
    gdes_out = gdes->forward_with_samples(gdes_tape, batch, tied_out.sampled_ids, 3, true);
  }
};

// Sets every delta to small random values, as training would.
void perturb_deltas(ParameterStore& store) {
  std::mt19937 random(5);
  std::uniform_real_distribution<float> value(-0.01f, 0.01f);
  for (const std::string& name : delta_names) {
    Tensor& delta = store.get(name).value();
    for (std::int64_t i = 0; i < delta.numel(); ++i) delta.data<float>()[i] = value(random);
  }
}

Tensor added(const Tensor& a, const Tensor& b) {
  Tensor sum = a.clone();
  for (std::int64_t i = 0; i < sum.numel(); ++i) sum.data<float>()[i] += b.data<float>()[i];
  return sum;
}

}  // namespace

TEST_CASE("stop_gradient: the same value, shared, and no gradient through it") {
  Tensor value = Tensor::empty({3, 4}, DType::f64);
  for (std::int64_t i = 0; i < value.numel(); ++i) value.data<double>()[i] = 0.25 * (i - 5);
  const Var x(value, /*requires_grad=*/true, "x");
  const Var held = ops::stop_gradient(x);
  CHECK_FALSE(held.requires_grad());
  CHECK(held.value().raw() == x.value().raw());  // shared, not copied
  CHECK(held.name() == "stop_gradient(x)");
  Tape tape;
  tape.backward(ops::sum(tape, ops::mul(tape, x, held)));  // d/dx Σ x·sg(x) = sg(x) = x, not 2x
  CHECK(bit_equal(x.grad(), x.value()));
}

TEST_CASE("gdes: the deltas are zero, registered last, and the step is the tied one bit for bit") {
  Pair pair;
  const auto& tied = pair.tied_store.parameters();
  const auto& gdes = pair.gdes_store.parameters();
  REQUIRE(gdes.size() == tied.size() + delta_names.size());
  for (std::size_t i = 0; i < tied.size(); ++i) {  // same names, same order, same initial bits
    CHECK(gdes[i].name == tied[i].name);
    CHECK(bit_equal(gdes[i].var.value(), tied[i].var.value()));
  }
  for (std::size_t k = 0; k < delta_names.size(); ++k) {
    const Parameter& delta = gdes[tied.size() + k];
    CHECK(delta.name == delta_names[k]);
    CHECK(delta.var.value().shape() == pair.gdes_store.get(shared_names[k]).value().shape());
    for (const double entry : delta.var.value().to_vector()) CHECK(entry == 0.0);
    CHECK(delta.weight_decay == (k < 3));  // tables decayed, LayerNorm not, as what they correct
  }
  // E_D = E_G + 0 = E_G: every loss and logit of the step is the tied model's, bit for bit.
  CHECK(bit_equal(pair.gdes_out.disc_logits, pair.tied_out.disc_logits));
  CHECK(bit_equal(pair.gdes_out.mlm_logits, pair.tied_out.mlm_logits));
  CHECK(bit_equal(pair.gdes_out.total_loss.value(), pair.tied_out.total_loss.value()));
  for (const std::string& name : shared_names)
    CHECK(bit_equal(discriminator_embedding_value(pair.gdes_store, name),
                    pair.gdes_store.get(name).value()));
}

TEST_CASE("gdes: the disc loss trains E_Δ with the tied model's embedding gradient, never E_G") {
  Pair pair;
  pair.tied_tape.backward(pair.tied_out.disc_loss);
  pair.gdes_tape.backward(pair.gdes_out.disc_loss);
  for (std::size_t k = 0; k < shared_names.size(); ++k) {
    CAPTURE(shared_names[k]);
    const Var tied_shared = pair.tied_store.get(shared_names[k]);
    CHECK(abs_sum(tied_shared) > 0.0);  // the tied disc loss pulls on E_G …
    CHECK(abs_sum(pair.gdes_store.get(shared_names[k])) == 0.0);  // … GDES's never
    const Var delta = pair.gdes_store.get(delta_names[k]);
    REQUIRE(delta.has_grad());
    CHECK(bit_equal(delta.grad(), tied_shared.grad()));  // E_Δ takes exactly that pull
  }
  for (const Parameter& parameter : pair.tied_store.parameters())
    if (parameter.name.rfind("discriminator.", 0) == 0) {
      CAPTURE(parameter.name);
      CHECK(bit_equal(pair.gdes_store.get(parameter.name).grad(), parameter.var.grad()));
    }
}

TEST_CASE("gdes: the MLM loss reaches E_G as in the tied model and never E_Δ") {
  Pair pair;
  pair.tied_tape.backward(pair.tied_out.mlm_loss);
  pair.gdes_tape.backward(pair.gdes_out.mlm_loss);
  for (const std::string& name : shared_names) {
    CAPTURE(name);
    CHECK(abs_sum(pair.gdes_store.get(name)) > 0.0);
    CHECK(bit_equal(pair.gdes_store.get(name).grad(), pair.tied_store.get(name).grad()));
  }
  for (const std::string& name : delta_names) CHECK(abs_sum(pair.gdes_store.get(name)) == 0.0);
}

TEST_CASE("gdes: f64 central differences: E_Δ against the total loss, E_G against the MLM alone") {
  ModelConfig config = tiny("gdes");
  ParameterStore store;
  const ElectraModel model(config, store, 21, DType::f64);
  std::mt19937 random(9);
  std::uniform_real_distribution<double> value(-0.02, 0.02);
  for (const std::string& name : delta_names) {  // away from 0, as after training
    Tensor& delta = store.get(name).value();
    for (std::int64_t i = 0; i < delta.numel(); ++i) delta.data<double>()[i] = value(random);
  }
  const MaskedBatch batch = gdes_batch();
  Tape tape;
  const StepOutput first = model.forward(tape, batch, 3, true);
  tape.backward(first.total_loss);
  const auto losses_at = [&] {  // {total, mlm_weight · MLM}
    Tape quiet;
    quiet.set_recording(false);
    const StepOutput out = model.forward_with_samples(quiet, batch, first.sampled_ids, 3, true);
    return std::pair{out.total_loss.value().item(),
                     config.mlm_weight * out.mlm_loss.value().item()};
  };
  const std::int64_t E = config.embedding_size;
  const std::int64_t token = batch.original.input_ids.data<std::int32_t>()[4];  // a present row
  const std::vector<std::pair<std::string, std::int64_t>> entries = {
      {delta_names[0], token * E + 3},
      {delta_names[1], 2 * E + 5},
      {delta_names[2], E + 1},
      {delta_names[3], 7},
      {delta_names[4], 11},
      {shared_names[0], token * E + 3},
      {shared_names[1], 2 * E + 5},
      {shared_names[3], 7}};
  for (const auto& [name, entry] : entries) {
    CAPTURE(name);
    const Var parameter = store.get(name);
    double* at = parameter.value().data<double>() + entry;
    const double saved = *at, h = 1e-5;
    *at = saved + h;
    const auto plus = losses_at();
    *at = saved - h;
    const auto minus = losses_at();
    *at = saved;
    // The disc loss reaches E_G's value but, stopped, not its gradient: E_G is checked against
    // the MLM term alone, the deltas against the whole total.
    const bool shared = name.rfind("electra.embeddings.", 0) == 0;
    const double numeric =
        shared ? (plus.second - minus.second) / (2 * h) : (plus.first - minus.first) / (2 * h);
    const double analytic = parameter.grad().data<double>()[entry];
    CHECK(analytic != 0.0);
    CHECK(std::abs(analytic - numeric) <= std::max(1e-6 * std::abs(numeric), 1e-9));
  }
}

TEST_CASE("gdes: the gradient boundaries of every replaced-token row hold on the gdes model") {
  const ObjectiveSpec& electra = find_objective("electra");
  CHECK(gradient_boundaries(electra, tiny("tied")).size() == electra.gradient_boundaries.size());
  const std::vector<GradientBoundary> boundaries = gradient_boundaries(electra, tiny("gdes"));
  const auto has = [&](const std::string& loss, const std::string& prefix, bool zero) {
    for (const GradientBoundary& b : boundaries)
      if (b.loss == loss && b.parameter_prefix == prefix && b.zero == zero) return true;
    return false;
  };
  CHECK(has("disc", "electra.embeddings.", true));
  CHECK(has("disc", "discriminator.electra.embeddings.", false));
  CHECK_FALSE(has("disc", "electra.embeddings.", false));
  CHECK(has("disc", "generator.", true));
  CHECK(has("mlm", "discriminator.", true));  // which covers the deltas

  // As the model audit checks them: each loss alone, every parameter under each prefix.
  for (const ObjectiveSpec& row : objective_table()) {
    if (!row.networks.discriminator) continue;
    CAPTURE(row.name);
    const ModelConfig config = tiny("gdes", row.name);
    ParameterStore store;
    const ElectraModel model(config, store, 21);
    for (const GradientBoundary& boundary : gradient_boundaries(row, config)) {
      CAPTURE(boundary.loss);
      CAPTURE(boundary.parameter_prefix);
      Tape tape;
      const StepOutput out = model.forward(tape, gdes_batch(), 3, true);
      REQUIRE(out.loss(boundary.loss).defined());
      tape.backward(out.loss(boundary.loss));
      for (const Parameter& parameter : store.parameters())
        if (parameter.name.rfind(boundary.parameter_prefix, 0) == 0) {
          CAPTURE(parameter.name);
          CHECK((abs_sum(parameter.var) == 0.0) == boundary.zero);
        }
      store.zero_grad();
    }
  }
}

TEST_CASE("gdes: the HF export folds E_G + E_Δ into a plain ElectraForPreTraining") {
  const fs::path root = test::scratch_dir("export");
  Pair pair;
  perturb_deltas(pair.gdes_store);
  const HfExport exported =
      export_pretraining_to_hf(pair.gdes_store, pair.gdes->config(), root / "hf", "");
  const HfModel discriminator = load_hf_model(exported.discriminator);
  const HfModel generator = load_hf_model(exported.generator);
  CHECK(discriminator.architecture == "ElectraForPreTraining");
  for (std::size_t k = 0; k < shared_names.size(); ++k) {
    CAPTURE(shared_names[k]);
    const Tensor& shared = pair.gdes_store.get(shared_names[k]).value();
    const Tensor folded = added(shared, pair.gdes_store.get(delta_names[k]).value());
    CHECK(bit_equal(discriminator.at(shared_names[k]), folded));
    CHECK_FALSE(bit_equal(folded, shared));
    CHECK(bit_equal(generator.at(shared_names[k]), shared));  // the generator keeps E_G
  }
  for (const NamedTensor& entry :
       load_safetensors((exported.discriminator / "model.safetensors").string()).tensors)
    CHECK(entry.name.find("_delta") == std::string::npos);

  // Loaded into a plain tied model, it computes what the GDES discriminator computes.
  ParameterStore plain_store;
  const ElectraModel plain(tiny("tied"), plain_store, 99);
  import_hf_pretraining(&discriminator, &generator, plain_store);
  const MaskedBatch batch = gdes_batch();
  CHECK(bit_equal(plain.replaced_probability(batch.original),
                  pair.gdes->replaced_probability(batch.original)));

  // Resuming pre-training from it cannot split E_G + E_Δ again: refused, saying so.
  std::string error;
  try {
    pretraining_config_from_hf(&discriminator, &generator);
  } catch (const Error& caught) {
    error = caught.what();
  }
  CHECK(error.find("exported from a GDES run") != std::string::npos);
  CHECK(error.find(exported.discriminator.string()) != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("gdes: embedding_sharing is validated naming the key") {
  const auto error = [](const nlohmann::json& json) {
    try {
      model_config_from_json(json, model_preset("tiny"));
    } catch (const Error& caught) {
      return std::string(caught.what());
    }
    return std::string();
  };
  CHECK(model_config_from_json({{"embedding_sharing", "gdes"}}).embedding_sharing == "gdes");
  CHECK(model_preset("small").embedding_sharing == "tied");
  CHECK(error({{"embedding_sharing", "shared"}}) ==
        "config: embedding_sharing = 'shared': must be 'tied' or 'gdes'");
  CHECK(error({{"objective", "mlm"}, {"embedding_sharing", "gdes"}}) ==
        "config: embedding_sharing = 'gdes': objective 'mlm' has no replaced-token discriminator "
        "to share with");
}

TEST_CASE("gdes: pretrain from the CLI, then export and fine-tuning read E_G + E_Δ") {
  const fs::path dir = test::scratch_dir("cli");
  const std::string shards = test::prepare_sample_shards(dir, 32);
  const fs::path config = dir / "gdes.json", out = dir / "run", hf = dir / "hf";
  std::ofstream(config) << R"({"embedding_sharing": "gdes"})";
  const test::Run run =
      test::run_command(test::electra_binary + " pretrain --data " + shards + " --out " +
                        out.string() + " --preset tiny --config " + config.string() +
                        " --threads 1 --max-steps 3 --log-every 1 --save-every 0");
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);

  const PretrainedModel trained = load_pretrained_model(out);
  CHECK(trained.config.embedding_sharing == "gdes");
  const ParameterStore& store = *trained.parameters;
  for (const std::string& name : delta_names) {
    CAPTURE(name);
    double moved = 0;
    for (const double entry : store.get(name).value().to_vector()) moved += std::abs(entry);
    CHECK(moved > 0.0);  // three updates of the disc loss moved every delta
  }
  const std::string word = shared_names[0];
  const Tensor folded = added(store.get(word).value(), store.get(delta_names[0]).value());

  const PretrainedEncoder encoder = load_pretrained_encoder(out);  // fine-tuning's --init
  CHECK(bit_equal(encoder.tensors.at(word), folded));

  const test::Run exported =
      test::run_command(test::electra_binary + " export --checkpoint " + out.string() + " --out " +
                        hf.string() + " --vocab " + test::sample_vocab);
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.output);
  CHECK(bit_equal(load_hf_model(hf / "discriminator").at(word), folded));
  CHECK(bit_equal(load_hf_model(hf / "generator").at(word), store.get(word).value()));
  fs::remove_all(dir);
}
