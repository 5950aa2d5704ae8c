#include "models/training/audit_dump.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "autograd/tape.hpp"
#include "data/masking.hpp"
#include "models/training/checkpoint.hpp"
#include "models/training/pretrained_model.hpp"
#include "models/training/trainer.hpp"

namespace electra {
namespace fs = std::filesystem;

AuditUpdateRecord run_audited_update(const ElectraModel& model, ParameterStore& parameters,
                                     AdamW& optimizer, const LearningRateSchedule& schedule,
                                     const MaskedBatch& batch, const Tensor& sampled_ids) {
  AuditUpdateRecord record;
  record.step = optimizer.updates_applied();
  record.batch = batch;
  Tape tape;
  // The curriculum's clock is the update count, as in training (the trainer passes it too).
  const ObjectiveDraw draw{static_cast<std::uint64_t>(record.step), record.step,
                           /*training=*/true, sampled_ids};
  record.output = model.forward(tape, batch, draw);
  record.sampled_ids = record.output.sampled_ids;
  const auto value_of = [](const Var& loss) {
    return loss.defined() ? loss.value().item() : std::numeric_limits<double>::quiet_NaN();
  };
  for (const NamedLoss& term : record.output.losses)
    record.losses.push_back({term.name, value_of(term.loss), term.weight});
  record.mlm_loss = value_of(record.output.mlm_loss);
  record.disc_loss = value_of(record.output.disc_loss);
  record.total_loss = value_of(record.output.total_loss);
  tape.backward(record.output.total_loss);
  tape.clear();
  for (const Parameter& parameter : parameters.parameters()) {
    const Var& var = parameter.var;
    record.gradients.push_back(
        {parameter.name, var.has_grad() ? var.grad().to(Device::cpu).clone()
                                        : Tensor::zeros(var.shape(), var.value().dtype())});
  }
  const OptimizerStepReport report = optimizer.step(schedule.at(record.step));
  parameters.zero_grad();
  record.grad_norm = report.grad_norm;
  record.learning_rate = report.learning_rate;
  return record;
}

std::vector<NamedTensor> parameter_tensors(const ParameterStore& parameters) {
  std::vector<NamedTensor> out;
  for (const Parameter& parameter : parameters.parameters())
    out.push_back({parameter.name, parameter.var.value().to(Device::cpu).clone()});
  return out;
}

void load_parameter_values(ParameterStore& parameters, const SafetensorsContents& contents,
                           const std::string& prefix, const std::string& source) {
  // Check everything first so a bad file leaves the parameters untouched.
  for (const Parameter& parameter : parameters.parameters()) {
    const Tensor* stored = contents.find(prefix + parameter.name);
    check(stored != nullptr, source, ": no tensor ", prefix + parameter.name);
    check(stored->shape() == parameter.var.shape(), source, ": ", prefix + parameter.name,
          " has shape ", stored->shape().str(), ", the model's is ", parameter.var.shape().str());
  }
  for (const Parameter& parameter : parameters.parameters()) {
    Var var = parameter.var;
    const Tensor converted = contents.at(prefix + parameter.name).to(var.value().dtype());
    var.value() = converted.to(var.value().device());
  }
}

void copy_parameter_values(const ParameterStore& from, ParameterStore& to) {
  check(from.size() == to.size(), "audit: copying ", from.size(), " parameters into a store of ",
        to.size());
  for (const Parameter& source : from.parameters()) {
    Var target = to.get(source.name);
    check(target.shape() == source.var.shape(), "audit: ", source.name, " shapes differ");
    target.value() =
        source.var.value().to(Device::cpu).to(target.value().dtype()).to(target.value().device());
  }
}

PackedBatch synthetic_packed_batch(const ModelConfig& config, const SpecialTokens& special,
                                   std::uint64_t seed) {
  const std::int64_t batch = config.batch_size, length = config.seq_len;
  check(length >= 6, "audit: seq_len ", length, " is too short for [CLS] A [SEP] B [SEP]");
  const auto is_special = [&](std::int64_t id) {
    return id == special.pad || id == special.unk || id == special.cls || id == special.sep ||
           id == special.mask;
  };
  check(config.vocab_size > 10, "audit: vocab_size ", config.vocab_size, " is too small");
  // mt19937_64's raw output is specified by the standard (its distributions are not).
  std::mt19937_64 random(seed ^ 0xA0D17ull);
  const auto regular_token = [&] {
    for (;;) {
      const auto id =
          static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(config.vocab_size));
      if (!is_special(id)) return static_cast<std::int32_t>(id);
    }
  };
  std::vector<std::int32_t> ids(batch * length, special.pad), types(batch * length, 0),
      mask(batch * length, 0);
  for (std::int64_t b = 0; b < batch; ++b) {
    // Row 0 is full; later rows end earlier so padding (and its masking) is exercised; every
    // third row has a single segment, as 10% of real sequences do.
    const std::int64_t used = std::max<std::int64_t>(6, length - 4 * (b % 4));
    const bool two_segments = b % 3 != 2;
    const std::int64_t first_sep = two_segments ? used / 2 : used - 1;
    for (std::int64_t t = 0; t < used; ++t) {
      const std::int64_t i = b * length + t;
      mask[i] = 1;
      ids[i] = t == 0                              ? special.cls
               : (t == first_sep || t == used - 1) ? special.sep
                                                   : regular_token();
      types[i] = t > first_sep ? 1 : 0;
    }
  }
  PackedBatch out;
  out.input_ids = Tensor::from_vector(ids, {batch, length});
  out.token_type_ids = Tensor::from_vector(types, {batch, length});
  out.attention_mask = Tensor::from_vector(mask, {batch, length});
  return out;
}

void append_update_inputs(std::vector<NamedTensor>& out, const std::string& prefix,
                          const MaskedBatch& batch, const Tensor& sampled_ids) {
  const auto host = [](const Tensor& tensor) { return tensor.to(Device::cpu).clone(); };
  out.push_back({prefix + "input_ids", host(batch.original.input_ids)});
  out.push_back({prefix + "token_type_ids", host(batch.original.token_type_ids)});
  out.push_back({prefix + "attention_mask", host(batch.original.attention_mask)});
  out.push_back({prefix + "masked_input_ids", host(batch.masked_input_ids)});
  out.push_back({prefix + "masked_positions", host(batch.masked_positions)});
  out.push_back({prefix + "masked_ids", host(batch.masked_original_ids)});
  out.push_back({prefix + "masked_weights", host(batch.masked_weights).to(DType::f32)});
  if (sampled_ids.defined()) out.push_back({prefix + "sampled_ids", host(sampled_ids)});
}

MaskedBatch masked_batch_from(const SafetensorsContents& contents, const std::string& prefix,
                              const std::string& source) {
  const auto get = [&](const std::string& name, DType dtype) {
    const Tensor* tensor = contents.find(prefix + name);
    check(tensor != nullptr, source, ": no tensor ", prefix + name);
    check(tensor->dtype() == dtype, source, ": ", prefix + name, " has the wrong dtype");
    return *tensor;
  };
  MaskedBatch batch;
  batch.original.input_ids = get("input_ids", DType::i32);
  batch.original.token_type_ids = get("token_type_ids", DType::i32);
  batch.original.attention_mask = get("attention_mask", DType::i32);
  batch.masked_input_ids = get("masked_input_ids", DType::i32);
  batch.masked_positions = get("masked_positions", DType::i32);
  batch.masked_original_ids = get("masked_ids", DType::i32);
  batch.masked_weights = get("masked_weights", DType::f32);
  return batch;
}

namespace {

Tensor scalar_tensor(double value, DType dtype) { return Tensor::full({1}, value, dtype); }

Tensor series_tensor(const std::vector<double>& values, DType dtype) {
  return Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}).to(dtype);
}

// The special-token ids a fresh audit uses: the first five ids, so a small vocab has room.
SpecialTokens small_vocab_specials() { return SpecialTokens{0, 1, 2, 3, 4}; }

// The shards' special tokens when the checkpoint's shard directory is still there.
SpecialTokens checkpoint_specials(const TrainerState& state, std::string& origin) {
  try {
    const std::string shards = state.data_position.at("shards_dir").get<std::string>();
    const SpecialTokens special = read_shard_special_tokens(shards);
    origin = shards + "/meta.json";
    return special;
  } catch (const std::exception&) {
    origin = "defaults (the checkpoint's shard directory is unavailable)";
    return small_vocab_specials();
  }
}

}  // namespace

AuditDumpSummary write_audit_dump(const AuditDumpOptions& options) {
  check(!options.out_dir.empty(), "audit: --dump needs a directory");
  check(options.steps >= 1, "audit: --steps must be ≥ 1, got ", options.steps);
  check(options.dtype == DType::f32 || options.dtype == DType::f64,
        "audit: --dtype must be f32 or f64");
  check(options.checkpoint.empty() || options.objective.empty(),
        "audit: --checkpoint takes its objective from the checkpoint; drop --objective");

  // The model as training holds it (f32), fresh or from the checkpoint.
  ModelConfig config;
  std::uint64_t seed = options.seed;
  std::string specials_origin = "defaults";
  SpecialTokens special = small_vocab_specials();
  std::string checkpoint_dir;
  TrainerState state;
  if (!options.checkpoint.empty()) {
    checkpoint_dir = resolve_checkpoint_dir(options.checkpoint).string();
    state = read_trainer_state(checkpoint_dir);
    check(state.config.contains("model"), "audit: ", checkpoint_dir,
          ": trainer_state.json has no model config");
    config = model_config_from_json(state.config["model"]);
    seed = state.seed;
    special = checkpoint_specials(state, specials_origin);
  } else {
    config = model_preset(options.preset);
    if (!options.config_file.empty()) config = load_model_config(options.config_file, config);
    if (!options.objective.empty()) {
      config.objective = options.objective;
      config.validate();  // an unknown name is an error listing the registered ones
    }
  }
  ParameterStore trained_parameters;
  const ElectraModel trained_model(config, trained_parameters, seed, DType::f32);
  const AdamWConfig adam = adamw_config(config);
  AdamW trained_optimizer(trained_parameters, adam);
  if (!checkpoint_dir.empty())
    load_checkpoint(checkpoint_dir, trained_parameters, &trained_optimizer, nullptr);

  // The audited model: dropout 0, in the requested dtype, starting from the same values.
  ModelConfig audit_config = config;
  audit_config.hidden_dropout = 0.0;
  audit_config.attention_dropout = 0.0;
  ParameterStore parameters;
  const ElectraModel model(audit_config, parameters, seed, options.dtype);
  copy_parameter_values(trained_parameters, parameters);
  AdamW optimizer(parameters, adam);
  {
    SafetensorsContents moments{trained_optimizer.state_tensors(),
                                trained_optimizer.state_metadata()};
    for (NamedTensor& moment : moments.tensors) moment.tensor = moment.tensor.to(options.dtype);
    optimizer.load_state(moments, "audit: optimizer state");
  }
  const LearningRateSchedule schedule{audit_config.learning_rate, audit_config.warmup_steps,
                                      audit_config.num_train_steps};
  MaskingSettings masking;
  masking.mask_probability = audit_config.mask_probability;
  masking.max_predictions = audit_config.predictions_per_sequence();
  masking.mask_token_share = audit_config.mask_token_share;
  masking.seed = seed;
  const PackedBatch packed = synthetic_packed_batch(audit_config, special, seed);

  const fs::path dir(options.out_dir);
  fs::create_directories(dir);
  const std::int64_t first_step = optimizer.updates_applied();
  save_safetensors((dir / "parameters.safetensors").string(), parameter_tensors(parameters));
  save_safetensors((dir / "optimizer_state.safetensors").string(), optimizer.state_tensors(),
                   optimizer.state_metadata());

  std::vector<NamedTensor> trajectory;
  std::vector<std::string> loss_names;  // the row's named losses, the same at every update
  std::vector<std::vector<double>> loss_values, loss_weights;  // [name][update]
  std::vector<double> total_losses, grad_norms, learning_rates;
  for (std::int64_t k = 0; k < options.steps; ++k) {
    const MaskedBatch batch =
        mask_batch(packed, special, masking, static_cast<std::uint64_t>(first_step + k));
    const AuditUpdateRecord record =
        run_audited_update(model, parameters, optimizer, schedule, batch, Tensor());
    append_update_inputs(trajectory, "step_" + std::to_string(k) + ".", batch, record.sampled_ids);
    if (k == 0) {
      for (const AuditLoss& loss : record.losses) loss_names.push_back(loss.name);
      loss_values.resize(loss_names.size());
      loss_weights.resize(loss_names.size());
    }
    check(record.losses.size() == loss_names.size(), "audit: objective '", audit_config.objective,
          "' changed its named losses at update ", k + 1);
    for (std::size_t i = 0; i < loss_names.size(); ++i) {
      check(record.losses[i].name == loss_names[i], "audit: objective '", audit_config.objective,
            "' changed its named losses at update ", k + 1);
      loss_values[i].push_back(record.losses[i].value);
      loss_weights[i].push_back(record.losses[i].weight);
    }
    total_losses.push_back(record.total_loss);
    grad_norms.push_back(record.grad_norm);
    learning_rates.push_back(record.learning_rate);
    if (k != 0) continue;
    std::vector<NamedTensor> step;
    append_update_inputs(step, "", batch, record.sampled_ids);
    const StepOutput& out = record.output;
    // Whatever the row defines (an objective without a discriminator has no disc tensors).
    const auto add = [&](const char* name, const Tensor& tensor) {
      if (tensor.defined()) step.push_back({name, tensor.to(Device::cpu).clone()});
    };
    add("corrupted_ids", out.corrupted_ids);
    add("disc_labels", out.disc_labels);
    add("mlm_logits", out.mlm_logits);
    add("disc_logits", out.disc_logits);
    add("disc_weights", out.disc_weights);
    for (const AuditLoss& loss : record.losses) {
      step.push_back({loss.name + "_loss", scalar_tensor(loss.value, options.dtype)});
      step.push_back({loss.name + "_weight", scalar_tensor(loss.weight, options.dtype)});
    }
    step.push_back({"total_loss", scalar_tensor(record.total_loss, options.dtype)});
    save_safetensors((dir / "step.safetensors").string(), step);
    save_safetensors((dir / "gradients.safetensors").string(), record.gradients);
    save_safetensors((dir / "parameters_after.safetensors").string(),
                     parameter_tensors(parameters));
  }
  for (std::size_t i = 0; i < loss_names.size(); ++i) {
    trajectory.push_back({loss_names[i] + "_loss", series_tensor(loss_values[i], options.dtype)});
    trajectory.push_back(
        {loss_names[i] + "_weight", series_tensor(loss_weights[i], options.dtype)});
  }
  trajectory.push_back({"total_loss", series_tensor(total_losses, options.dtype)});
  trajectory.push_back({"grad_norm", series_tensor(grad_norms, options.dtype)});
  trajectory.push_back({"learning_rate", series_tensor(learning_rates, options.dtype)});
  save_safetensors((dir / "trajectory.safetensors").string(), trajectory);
  save_safetensors((dir / "parameters_final.safetensors").string(), parameter_tensors(parameters));

  nlohmann::json index;
  index["format"] = "electra-audit";
  index["version"] = 1;
  index["dtype"] = options.dtype == DType::f64 ? "f64" : "f32";
  index["seed"] = seed;
  index["source"] =
      checkpoint_dir.empty() ? "fresh preset " + options.preset : "checkpoint " + checkpoint_dir;
  index["config"] = to_json(audit_config);
  index["note"] =
      "dropout is 0 in an audit (hidden_dropout = attention_dropout = 0 in config); "
      "the samples are recorded and must be fed in";
  index["special_tokens"] = {{"pad", special.pad},   {"unk", special.unk},
                             {"cls", special.cls},   {"sep", special.sep},
                             {"mask", special.mask}, {"from", specials_origin}};
  index["optimizer"] = {{"beta1", adam.beta1},
                        {"beta2", adam.beta2},
                        {"epsilon", adam.epsilon},
                        {"weight_decay", adam.weight_decay},
                        {"max_grad_norm", adam.max_grad_norm},
                        {"bias_correction", adam.bias_correction},
                        {"updates_applied_before", first_step}};
  index["schedule"] = {{"peak_learning_rate", schedule.peak_learning_rate},
                       {"warmup_steps", schedule.warmup_steps},
                       {"total_steps", schedule.total_steps}};
  index["steps"] = options.steps;
  index["objective"] = audit_config.objective;
  index["losses"] = nlohmann::json::object();
  index["loss_weights"] = nlohmann::json::object();
  for (std::size_t i = 0; i < loss_names.size(); ++i) {
    index["losses"][loss_names[i]] = loss_values[i];
    index["loss_weights"][loss_names[i]] = loss_weights[i];
  }
  index["losses"]["total"] = total_losses;
  index["loss_names"] = loss_names;
  index["grad_norms"] = grad_norms;
  index["learning_rates"] = learning_rates;
  nlohmann::json parameter_list = nlohmann::json::array();
  for (const Parameter& parameter : parameters.parameters())
    parameter_list.push_back({{"name", parameter.name},
                              {"shape", parameter.var.shape().dims()},
                              {"weight_decay", parameter.weight_decay}});
  index["parameters"] = parameter_list;
  index["files"] = {{"step", "step.safetensors"},
                    {"parameters", "parameters.safetensors"},
                    {"optimizer_state", "optimizer_state.safetensors"},
                    {"gradients", "gradients.safetensors"},
                    {"parameters_after", "parameters_after.safetensors"},
                    {"trajectory", "trajectory.safetensors"},
                    {"parameters_final", "parameters_final.safetensors"}};
  std::ofstream out(dir / "audit.json");
  out << index.dump(2) << '\n';
  check(out.good(), "audit: cannot write ", (dir / "audit.json").string());
  return {index, total_losses};
}

}  // namespace electra
