#!/usr/bin/python3
"""PyTorch twin of `electra bench --preset P`: the same ELECTRA training step, timed the same way.

    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tools/reference/bench_torch.py \
        --preset mini --batch 32 --seq-len 128 --steps 10 --warmup-steps 2 --threads 2

Optional: needs only torch (Debian: apt-get install python3-torch); the build, the tests and CI
never run it. tools/bench/compare.sh runs it interleaved with `electra bench` (docs/performance.md).

What is timed, as tools/bench_model.cpp times it: synthetic ids ([CLS] A [SEP] B [SEP], random ids
>= 1000, no padding) and ELECTRA's masking are built outside the clock; the clock covers the
generator (shared embeddings, E->H_g projection, encoder, MLM head at the masked positions, tied
output embeddings, weighted cross-entropy), Gumbel-max sampling over the whole vocabulary, the
corruption of the original ids, the discriminator and its BCE over every token, total =
mlm_weight * MLM + disc_weight * disc, backward, global-norm clipping (1.0) and AdamW (lr 1e-4,
betas 0.9/0.999, eps 1e-6, weight decay 0.01 except LayerNorm and biases), zero_grad. Dropout 0.1
on the embeddings, the attention probabilities and both residual branches, as in training.

The model is the golden-fixture reference's (reference_model.py, imported): its encoder and
embeddings run here with torch's own fused kernels (F.linear, F.layer_norm, F.gelu, F.dropout)
bound in place of the reference's spelled-out formulas, as an ordinary PyTorch model would run.
One difference in arithmetic, not in work: torch.optim.AdamW always applies Adam's bias
correction, which our optimizer (like ELECTRA's) does not. Run it with glibc's malloc told to keep
freed memory (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, as compare.sh does), or torch
page-faults its activations in again in every step.
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref  # noqa: E402  (the model definition shared with the golden fixtures)

# The presets of models/networks/config.cpp (model_preset); everything not listed is ELECTRA-Small's default.
# compare.sh checks that both programs report the same parameter count, which catches a drift.
SMALL = {"vocab_size": 30522, "hidden_size": 256, "num_layers": 12, "num_heads": 4,
         "intermediate_size": 1024, "embedding_size": 128, "generator_size": 0.25,
         "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_dropout": 0.1,
         "attention_dropout": 0.1, "layer_norm_eps": 1e-12, "initializer_range": 0.02,
         "mlm_weight": 1.0, "disc_weight": 50.0, "temperature": 1.0, "mask_probability": 0.15,
         "mask_token_share": 0.85, "weight_decay": 0.01, "adam_beta1": 0.9, "adam_beta2": 0.999,
         "adam_epsilon": 1e-6, "max_grad_norm": 1.0}
PRESETS = {
    "small": {},
    "tiny": {"num_layers": 2, "hidden_size": 64, "num_heads": 2, "intermediate_size": 256,
             "embedding_size": 32, "generator_size": 0.5},
    "mini": {"num_layers": 4, "hidden_size": 128, "num_heads": 2, "intermediate_size": 512,
             "embedding_size": 128, "generator_size": 0.25},
    "base": {"num_layers": 12, "hidden_size": 768, "num_heads": 12, "intermediate_size": 3072,
             "embedding_size": 768, "generator_size": 1.0 / 3.0},
}
PAD, CLS, SEP, MASK = 0, 101, 102, 103  # data/batch.hpp SpecialTokens
LEARNING_RATE = 1e-4  # the rate tools/bench_model.cpp passes to every optimizer step


def preset_config(name, seq_len):
    config = dict(SMALL, **PRESETS[name])
    config["max_position_embeddings"] = max(config["max_position_embeddings"], seq_len)
    config["predictions"] = int((config["mask_probability"] + 0.005) * seq_len + 1e-9)
    return config


def generator_dims(config):
    """Hidden, heads, FFN of the generator: the discriminator's x generator_size, rounded."""
    factor = config["generator_size"]
    return (round(config["hidden_size"] * factor), max(1, round(config["num_heads"] * factor)),
            round(config["intermediate_size"] * factor))


# ----------------------------------------------------------------------------- parameters
def make_parameters(config):
    """Every tensor of our ParameterStore, under the same (Hugging Face) names."""
    shapes = {}
    E, V = config["embedding_size"], config["vocab_size"]
    e = "electra.embeddings."
    shapes[e + "word_embeddings.weight"] = (V, E)
    shapes[e + "position_embeddings.weight"] = (config["max_position_embeddings"], E)
    shapes[e + "token_type_embeddings.weight"] = (config["type_vocab_size"], E)
    shapes[e + "LayerNorm.weight"] = shapes[e + "LayerNorm.bias"] = (E,)

    def linear(name, inputs, outputs):
        shapes[name + ".weight"], shapes[name + ".bias"] = (outputs, inputs), (outputs,)

    def network(prefix, hidden, ffn):
        if hidden != E:
            linear(prefix + "electra.embeddings_project", E, hidden)
        for i in range(config["num_layers"]):
            p = f"{prefix}electra.encoder.layer.{i}."
            for part in ("query", "key", "value"):
                linear(p + "attention.self." + part, hidden, hidden)
            linear(p + "attention.output.dense", hidden, hidden)
            shapes[p + "attention.output.LayerNorm.weight"] = (hidden,)
            shapes[p + "attention.output.LayerNorm.bias"] = (hidden,)
            linear(p + "intermediate.dense", hidden, ffn)
            linear(p + "output.dense", ffn, hidden)
            shapes[p + "output.LayerNorm.weight"] = shapes[p + "output.LayerNorm.bias"] = (hidden,)

    gen_hidden, _, gen_ffn = generator_dims(config)
    network("generator.", gen_hidden, gen_ffn)
    linear("generator.generator_predictions.dense", gen_hidden, E)
    shapes["generator.generator_predictions.LayerNorm.weight"] = (E,)
    shapes["generator.generator_predictions.LayerNorm.bias"] = (E,)
    shapes["generator.generator_lm_head.bias"] = (V,)
    H = config["hidden_size"]
    network("discriminator.", H, config["intermediate_size"])
    linear("discriminator.discriminator_predictions.dense", H, H)
    linear("discriminator.discriminator_predictions.dense_prediction", H, 1)

    params = {}
    for name, shape in shapes.items():
        if "LayerNorm.weight" in name:
            tensor = torch.ones(shape)
        elif name.endswith("bias"):
            tensor = torch.zeros(shape)
        else:
            tensor = torch.nn.init.trunc_normal_(torch.empty(shape), std=config["initializer_range"],
                                                 a=-2 * config["initializer_range"],
                                                 b=2 * config["initializer_range"])
        params[name] = tensor.requires_grad_(True)
    return params


# ----------------------------------------------------------------------------- data (untimed)
def synthetic_batch(config, batch, length, step):
    """tools/bench_model.cpp's batch, then data/masking.cpp's masking (not its random numbers)."""
    rng = torch.Generator().manual_seed(step)
    low = 1000 if config["vocab_size"] > 2000 else 5
    ids = torch.randint(low, config["vocab_size"], (batch, length), generator=rng)
    ids[:, 0] = CLS
    ids[:, length // 2] = SEP
    ids[:, length - 1] = SEP
    types = (torch.arange(length) > length // 2).long().expand(batch, length).contiguous()
    attention = torch.ones(batch, length, dtype=torch.long)

    slots = config["predictions"]
    candidate = (ids != CLS) & (ids != SEP) & (ids != MASK) & (attention == 1)
    count = int(candidate[0].sum())  # the same in every row here
    k = max(1, min(slots, round(count * config["mask_probability"])))
    order = torch.rand(batch, length, generator=rng).masked_fill(~candidate, 2.0)
    positions = torch.zeros(batch, slots, dtype=torch.long)
    positions[:, :k] = order.topk(k, dim=1, largest=False).indices.sort(dim=1).values
    weights = torch.zeros(batch, slots)
    weights[:, :k] = 1.0
    masked_ids = ids.gather(1, positions)
    to_mask = (torch.rand(batch, slots, generator=rng) < config["mask_token_share"]) & (weights > 0)
    masked_input = ids.clone()
    masked_input.scatter_(1, positions,
                          torch.where(to_mask, torch.full_like(masked_ids, MASK), masked_ids))
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": attention,
            "masked_input_ids": masked_input, "masked_positions": positions, "masked_ids": masked_ids,
            "masked_weights": weights}


# ----------------------------------------------------------------------------- the timed step
def use_fused_kernels(config):
    """Binds torch's fused kernels (same formulas) and training dropout into the reference model."""
    probability = {"hidden": config["hidden_dropout"], "attention": config["attention_dropout"]}
    ref.gelu = F.gelu  # exact erf GELU, as the reference's
    ref.layer_norm = lambda x, gamma, beta, eps: F.layer_norm(x, gamma.shape, gamma, beta, eps)
    ref.linear = lambda x, params, name: F.linear(x, params[name + ".weight"], params[name + ".bias"])
    ref.dropout = lambda x, site: F.dropout(x, probability[site], training=True)


def forward(params, batch, config):
    """Generator, sampling, corruption, discriminator; returns the total loss."""
    eps, (gen_hidden, gen_heads, _) = config["layer_norm_eps"], generator_dims(config)
    mask, positions = batch["attention_mask"], batch["masked_positions"]
    weights = batch["masked_weights"]
    g, d = "generator.", "discriminator."

    x = ref.network_input(ref.shared_embeddings(batch["masked_input_ids"], batch["token_type_ids"],
                                                params, eps), params, g)
    x = ref.encoder(x, mask, params, g, config["num_layers"], gen_heads, eps)
    at_masked = x.gather(1, positions[:, :, None].expand(-1, -1, gen_hidden)).reshape(-1, gen_hidden)
    h = ref.gelu(ref.linear(at_masked, params, g + "generator_predictions.dense"))
    h = ref.layer_norm(h, params[g + "generator_predictions.LayerNorm.weight"],
                       params[g + "generator_predictions.LayerNorm.bias"], eps)
    logits = F.linear(h, params["electra.embeddings.word_embeddings.weight"],
                      params[g + "generator_lm_head.bias"])  # [B*P, V]
    w = weights.reshape(-1)
    nll = F.cross_entropy(logits, batch["masked_ids"].reshape(-1), reduction="none")
    mlm_loss = (nll * w).sum() / (w.sum() + 1e-6)

    # Gumbel-max over logits / temperature without gradient, ELECTRA's sample_from_softmax:
    # argmax(logits / T - log(-log(u + 1e-9) + 1e-9)). In place: one [B*P, V] buffer, not six.
    with torch.no_grad():
        noise = torch.rand_like(logits).add_(1e-9).log_().neg_().add_(1e-9).log_().neg_()
        noise.add_(logits, alpha=1.0 / config["temperature"])
        samples = noise.argmax(dim=-1).reshape(positions.shape)
        del noise
        original = batch["input_ids"]
        kept = original.gather(1, positions)
        corrupted = original.clone().scatter_(1, positions, torch.where(weights > 0, samples, kept))
        labels = (corrupted != original).float()

    y = ref.network_input(ref.shared_embeddings(corrupted, batch["token_type_ids"], params, eps),
                          params, d)
    y = ref.encoder(y, mask, params, d, config["num_layers"], config["num_heads"], eps)
    z = ref.gelu(ref.linear(y, params, d + "discriminator_predictions.dense"))
    disc_logits = ref.linear(z, params, d + "discriminator_predictions.dense_prediction")[..., 0]
    m = mask.float()
    disc_loss = (F.binary_cross_entropy_with_logits(disc_logits, labels, weight=m, reduction="sum")
                 / (m.sum() + 1e-6))
    return config["mlm_weight"] * mlm_loss + config["disc_weight"] * disc_loss


def current_rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="small", choices=sorted(PRESETS))
    parser.add_argument("--batch", type=int, default=32, help="sequences per step")
    parser.add_argument("--seq-len", type=int, default=128, help="sequence length")
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed first steps")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = all cores)")
    args = parser.parse_args()
    if min(args.batch, args.seq_len, args.steps) <= 0 or min(args.warmup_steps, args.threads) < 0:
        parser.error("--batch, --seq-len and --steps must be positive, --warmup-steps and --threads ≥ 0")
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    start_rss = current_rss_mb()

    config = preset_config(args.preset, args.seq_len)
    use_fused_kernels(config)
    params = make_parameters(config)
    groups = [{"params": [p for n, p in params.items() if ref.decays(n)],
               "weight_decay": config["weight_decay"]},
              {"params": [p for n, p in params.items() if not ref.decays(n)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, eps=config["adam_epsilon"],
                                  betas=(config["adam_beta1"], config["adam_beta2"]))
    total_params = sum(p.numel() for p in params.values())
    print(f"torch bench: preset {args.preset}, batch {args.batch}, seq_len {args.seq_len}, vocab "
          f"{config['vocab_size']}, {total_params} parameters, threads {torch.get_num_threads()} "
          f"(torch {torch.__version__}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')})")
    tuned = [f"{name}={os.environ[name]}" for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
             if name in os.environ]
    print(f"  malloc: {', '.join(tuned) if tuned else 'glibc defaults (tools/bench/compare.sh explains)'}")
    print("  device CPU, float32")
    sys.stdout.flush()

    forward_s, backward_s, optimizer_s, step_s, rss_mb = [], [], [], [], []
    for step in range(args.warmup_steps + args.steps):
        batch = synthetic_batch(config, args.batch, args.seq_len, step)
        begin = time.perf_counter()
        total_loss = forward(params, batch, config)
        forward_time = time.perf_counter() - begin
        total_loss.backward()
        del total_loss  # frees the graph, as our tape.clear() in the backward's time
        backward_time = time.perf_counter() - begin - forward_time
        torch.nn.utils.clip_grad_norm_(params.values(), config["max_grad_norm"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        total = time.perf_counter() - begin
        if step < args.warmup_steps:
            continue
        forward_s.append(forward_time)
        backward_s.append(backward_time)
        optimizer_s.append(total - forward_time - backward_time)
        step_s.append(total)
        rss_mb.append(current_rss_mb())

    step_time = statistics.median(step_s)
    tokens = args.batch * args.seq_len
    print(f"\nmedian of {args.steps} steps (after {args.warmup_steps} warm-up):")
    print(f"  step        {step_time * 1e3:9.1f} ms   {tokens / step_time:10.0f} tokens/s")
    for name, values, note in (("forward", forward_s, ""),
                               ("backward", backward_s, "   incl. freeing the graph"),
                               ("optimizer", optimizer_s, "   clip + AdamW + zero_grad")):
        value = statistics.median(values)
        print(f"  {name:<11} {value * 1e3:9.1f} ms   ({100 * value / step_time:4.1f}%){note}")
    # ru_maxrss is in KiB on Linux; MB here means MiB, as in `electra bench`.
    print(f"  peak RSS    {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:9.1f} MB")
    print(f"  RSS         {rss_mb[0]:9.1f} MB after the first timed step, "
          f"{rss_mb[-1]:.1f} MB after the last")
    print(f"  at start    {start_rss:9.1f} MB (Python and the torch libraries, before the model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
