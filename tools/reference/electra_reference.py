#!/usr/bin/python3
"""Independent PyTorch reference for one ELECTRA update and a short trajectory.

Written from the ELECTRA paper (Clark et al. 2020), BERT's encoder and DESIGN.md §2/§4 -- not
from electra.cpp's C++ -- so that agreement means something. It reads a dump written by
`electra audit --dump DIR` (docs/audit.md): the parameters, the batch, the masked positions and
the generator's sampled ids (fed in, so no random number generator has to agree), recomputes the
losses, every gradient (torch.autograd) and the AdamW updates, and compares.

    /usr/bin/python3 tools/reference/electra_reference.py --dump DIR            # check a dump
    /usr/bin/python3 tools/reference/electra_reference.py --dump DIR \
        --write-golden tests/golden/electra_tiny_f64.safetensors                # make a fixture

Needs only torch (Debian: apt-get install python3-torch). Runs on CPU. Exit status 1 when a
comparison is outside its tolerance.
"""
import argparse
import json
import math
import struct
import sys

import torch

# ----------------------------------------------------------------------------- safetensors I/O
DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    metadata = header.pop("__metadata__", {})
    body = data[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(body[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        tensor = tensor.detach().contiguous().cpu()
        raw = tensor.numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


# ----------------------------------------------------------------------------- the model (§2)
def gelu(x):
    """The exact (erf) GELU of BERT."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased, as TF and BERT
    return (x - mean) / torch.sqrt(variance + eps) * gamma + beta


def dropout(x, site):
    """Identity: the reference checks dumps made with dropout 0. tools/reference/bench_torch.py
    rebinds this module attribute to time training steps with dropout at these sites."""
    return x


def linear(x, params, name):
    """HF layout: weight [out, in], y = x W^T + b."""
    return x @ params[name + ".weight"].t() + params[name + ".bias"]


def encoder(x, attention_mask, params, prefix, num_layers, num_heads, eps):
    """BERT post-LN layers. x [B, L, H]; attention_mask [B, L] of 0/1."""
    batch, length, hidden = x.shape
    head = hidden // num_heads
    # BERT's additive mask: 0 for tokens, -10000 for padding keys.
    additive = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -10000.0
    for i in range(num_layers):
        p = f"{prefix}electra.encoder.layer.{i}."

        def heads(t):
            return t.view(batch, length, num_heads, head).transpose(1, 2)  # [B, h, L, d]

        q = heads(linear(x, params, p + "attention.self.query"))
        k = heads(linear(x, params, p + "attention.self.key"))
        v = heads(linear(x, params, p + "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head) + additive
        probs = dropout(torch.softmax(scores, dim=-1), "attention")
        context = (probs @ v).transpose(1, 2).reshape(batch, length, hidden)
        attended = dropout(linear(context, params, p + "attention.output.dense"), "hidden")
        x = layer_norm(x + attended, params[p + "attention.output.LayerNorm.weight"],
                       params[p + "attention.output.LayerNorm.bias"], eps)
        inner = gelu(linear(x, params, p + "intermediate.dense"))
        out = dropout(linear(inner, params, p + "output.dense"), "hidden")
        x = layer_norm(x + out, params[p + "output.LayerNorm.weight"],
                       params[p + "output.LayerNorm.bias"], eps)
    return x


def shared_embeddings(ids, token_types, params, eps):
    """word + position + token type, then the embedding LayerNorm (one set for both networks)."""
    e = "electra.embeddings."
    positions = torch.arange(ids.shape[1])
    x = (params[e + "word_embeddings.weight"][ids.long()]
         + params[e + "position_embeddings.weight"][positions][None, :, :]
         + params[e + "token_type_embeddings.weight"][token_types.long()])
    return dropout(layer_norm(x, params[e + "LayerNorm.weight"], params[e + "LayerNorm.bias"], eps), "hidden")


def network_input(embedded, params, prefix):
    """The network's own E -> H projection when its hidden size differs from E."""
    name = prefix + "electra.embeddings_project"
    return linear(embedded, params, name) if name + ".weight" in params else embedded


def electra_losses(params, batch, config):
    """One ELECTRA forward pass with the generator's samples given. Returns a dict of tensors."""
    eps = config["layer_norm_eps"]
    hidden = config["hidden_size"]
    gen_hidden = max(1, math.floor(hidden * config["generator_size"] + 0.5))
    gen_heads = max(1, math.floor(config["num_heads"] * config["generator_size"] + 0.5))
    layers = config["num_layers"]
    mask = batch["attention_mask"]
    positions = batch["masked_positions"].long()  # [B, P]
    weights = batch["masked_weights"].to(params["electra.embeddings.LayerNorm.weight"].dtype)

    # Generator on the masked ids; MLM head at the masked positions, tied to the word embeddings.
    g = "generator."
    x = network_input(shared_embeddings(batch["masked_input_ids"], batch["token_type_ids"], params, eps),
                      params, g)
    assert x.shape[-1] == gen_hidden, (x.shape, gen_hidden)
    x = encoder(x, mask, params, g, layers, gen_heads, eps)
    at_masked = torch.gather(x, 1, positions[:, :, None].expand(-1, -1, x.shape[-1]))  # [B, P, Hg]
    h = gelu(linear(at_masked, params, g + "generator_predictions.dense"))
    h = layer_norm(h, params[g + "generator_predictions.LayerNorm.weight"],
                   params[g + "generator_predictions.LayerNorm.bias"], eps)
    logits = h @ params["electra.embeddings.word_embeddings.weight"].t() + params[g + "generator_lm_head.bias"]
    logits = logits.reshape(-1, logits.shape[-1])  # [B*P, V]
    targets = batch["masked_ids"].reshape(-1).long()
    w = weights.reshape(-1)
    nll = -torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
    mlm_loss = (nll * w).sum() / (w.sum() + 1e-6)

    # Corrupt the ORIGINAL ids with the given samples at the real masked positions; label 1 where
    # the token changed (a sample equal to the original stays "original").
    original = batch["input_ids"].long()
    corrupted = original.clone()
    samples = batch["sampled_ids"].long()
    for b in range(original.shape[0]):
        for p in range(positions.shape[1]):
            if weights[b, p] != 0:
                corrupted[b, positions[b, p]] = samples[b, p]
    labels = (corrupted != original).to(logits.dtype)

    # Discriminator on the corrupted ids; BCE over every non-pad token.
    d = "discriminator."
    y = network_input(shared_embeddings(corrupted, batch["token_type_ids"], params, eps), params, d)
    y = encoder(y, mask, params, d, layers, config["num_heads"], eps)
    z = gelu(linear(y, params, d + "discriminator_predictions.dense"))
    disc_logits = linear(z, params, d + "discriminator_predictions.dense_prediction")[..., 0]  # [B, L]
    m = mask.to(logits.dtype)
    bce = torch.clamp(disc_logits, min=0) - disc_logits * labels + torch.log1p(torch.exp(-disc_logits.abs()))
    disc_loss = (bce * m).sum() / (m.sum() + 1e-6)
    total = config["mlm_weight"] * mlm_loss + config["disc_weight"] * disc_loss
    return {"mlm_loss": mlm_loss, "disc_loss": disc_loss, "total_loss": total, "mlm_logits": logits,
            "disc_logits": disc_logits, "disc_labels": labels, "corrupted_ids": corrupted.to(torch.int32)}


# ----------------------------------------------------------------------------- the update (§2.10)
def decays(name):
    """Weight decay for everything except LayerNorm parameters and biases."""
    return "LayerNorm" not in name and not name.endswith("bias")


def learning_rate(schedule, t):
    """lr * min(1, t / warmup) * (1 - min(t, T) / T), t = updates already applied."""
    peak, warmup, total = schedule["peak_learning_rate"], schedule["warmup_steps"], schedule["total_steps"]
    warm = min(1.0, t / warmup) if warmup > 0 else 1.0
    return peak * warm * (1.0 - min(t, total) / total)


def adamw_update(params, grads, moments, opt, lr, t):
    """Global-norm clip, then Adam with decoupled weight decay (no bias correction by default)."""
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads.values()))
    scale = opt["max_grad_norm"] / max(norm, opt["max_grad_norm"]) if opt["max_grad_norm"] > 0 else 1.0
    b1, b2, eps, wd = opt["beta1"], opt["beta2"], opt["epsilon"], opt["weight_decay"]
    with torch.no_grad():
        for name, p in params.items():
            g = grads[name] * scale
            m, v = moments[name]
            m.mul_(b1).add_((1 - b1) * g)
            v.mul_(b2).add_((1 - b2) * g * g)
            m_hat, v_hat = m, v
            if opt["bias_correction"]:
                m_hat = m / (1 - b1 ** (t + 1))
                v_hat = v / (1 - b2 ** (t + 1))
            update = m_hat / (torch.sqrt(v_hat) + eps)
            if decays(name):
                update = update + wd * p
            p.sub_(lr * update)
    return norm


def batch_of(tensors, prefix):
    fields = ["input_ids", "token_type_ids", "attention_mask", "masked_input_ids", "masked_positions",
              "masked_ids", "masked_weights", "sampled_ids"]
    return {f: tensors[prefix + f] for f in fields}


# ----------------------------------------------------------------------------- comparison
def family(name):
    if "LayerNorm" in name:
        return "LayerNorm"
    if "embeddings" in name:
        return "embeddings"
    if ".attention." in name:
        return "attention"
    if ".intermediate." in name or ".output.dense" in name:
        return "FFN"
    return "heads"


def relative_error(ours, reference):
    """max |ours - reference| / max |reference| (0/0 = 0)."""
    delta = float((ours.double() - reference.double()).abs().max()) if ours.numel() else 0.0
    size = float(reference.double().abs().max()) if reference.numel() else 0.0
    return delta / size if size > 0 else delta, delta, size


def run(dump_dir, dtype):
    index = json.load(open(f"{dump_dir}/audit.json"))
    config, opt, schedule = index["config"], index["optimizer"], index["schedule"]
    assert config["hidden_dropout"] == 0 and config["attention_dropout"] == 0, "dump must have dropout 0"
    load = lambda key: load_safetensors(f"{dump_dir}/{index['files'][key]}")[0]
    params = {k: v.to(dtype).requires_grad_(True) for k, v in load("parameters").items()}
    for entry in index["parameters"]:
        assert decays(entry["name"]) == entry["weight_decay"], f"weight decay of {entry['name']} differs"
    state = load("optimizer_state")
    moments = {n: [state[n + "/adam_m"].to(dtype).clone(), state[n + "/adam_v"].to(dtype).clone()] for n in params}
    trajectory = load("trajectory")
    first = opt["updates_applied_before"]

    out = {"losses": [], "params_after": None}
    for k in range(index["steps"]):
        batch = batch_of(trajectory, f"step_{k}.")
        for p in params.values():
            p.grad = None
        result = electra_losses(params, batch, config)
        result["total_loss"].backward()
        grads = {n: p.grad.detach().clone() for n, p in params.items()}
        out["losses"].append({n: float(result[n]) for n in ("mlm_loss", "disc_loss", "total_loss")})
        if k == 0:
            out["step0"] = {n: t.detach().clone() for n, t in result.items()}
            out["gradients"] = grads
        norm = adamw_update(params, grads, moments, opt, learning_rate(schedule, first + k), first + k)
        out["losses"][-1]["grad_norm"] = norm
        if k == 0:
            out["params_after"] = {n: p.detach().clone() for n, p in params.items()}
    out["params_final"] = {n: p.detach().clone() for n, p in params.items()}
    out["params_initial"] = load("parameters")
    return index, out


def compare(dump_dir, index, ref, dtype):
    f64 = dtype == torch.float64
    loss_tol, rtol = (1e-10, 1e-9) if f64 else (1e-5, 1e-4)
    step = load_safetensors(f"{dump_dir}/{index['files']['step']}")[0]
    failures = 0
    print(f"{'quantity':<44} {'ours':>22} {'reference':>22} {'rel err':>10}")
    for name in ("mlm_loss", "disc_loss", "total_loss"):
        ours, theirs = float(step[name][0]), float(ref["step0"][name])
        rel = abs(ours - theirs) / abs(theirs)
        failures += rel > loss_tol
        print(f"{name:<44} {ours:>22.15g} {theirs:>22.15g} {rel:>10.2e}")
    for name in ("corrupted_ids", "disc_labels"):
        same = torch.equal(step[name].double(), ref["step0"][name].double())
        failures += not same
        print(f"{name:<44} {'identical' if same else 'DIFFERENT':>22}")
    for name in ("mlm_logits", "disc_logits"):
        rel, _, _ = relative_error(step[name], ref["step0"][name])
        failures += rel > rtol
        print(f"{name:<44} {'':>22} {'':>22} {rel:>10.2e}")
    ours_traj = load_safetensors(f"{dump_dir}/{index['files']['trajectory']}")[0]
    worst = max(abs(float(ours_traj["total_loss"][k]) - r["total_loss"]) / abs(r["total_loss"])
                for k, r in enumerate(ref["losses"]))
    failures += worst > loss_tol * 10
    print(f"{'trajectory total_loss (worst of %d updates)' % len(ref['losses']):<44} {'':>45} {worst:>10.2e}")

    # Gradients and parameters: worst relative error (max|Δ| / max|ref|) per tensor family.
    for title, key, file_key in (("gradient", "gradients", "gradients"),
                                 ("parameters after update 1", "params_after", "parameters_after"),
                                 ("parameters after the trajectory", "params_final", "parameters_final")):
        ours = load_safetensors(f"{dump_dir}/{index['files'][file_key]}")[0]
        worst = {}
        for name, reference in ref[key].items():
            if key != "gradients":  # compare the change, not the value: it is what the step made
                reference = reference - ref["params_initial"][name].to(reference.dtype)
                mine = ours[name].to(reference.dtype) - ref["params_initial"][name].to(reference.dtype)
            else:
                mine = ours[name]
            rel, delta, size = relative_error(mine, reference)
            atol = (1e-13 if f64 else 1e-6) * max(1.0, size)
            ok = delta <= rtol * size + atol or (key == "gradients" and size < atol)
            failures += not ok
            fam = family(name)
            if size > 1e-12 and rel > worst.get(fam, (0.0, ""))[0]:
                worst[fam] = (rel, name)
            if not ok:
                print(f"  FAIL {title} {name}: max|Δ| {delta:.3e}, max|ref| {size:.3e}")
        for fam in sorted(worst):
            print(f"{title + ' — ' + fam:<44} {worst[fam][1][-40:]:>45} {worst[fam][0]:>10.2e}")
    return failures


def write_golden(path, dump_dir, index, ref, command):
    """The fixture the C++ tests read: the dump's inputs and the reference's results."""
    trajectory = load_safetensors(f"{dump_dir}/{index['files']['trajectory']}")[0]
    state = load_safetensors(f"{dump_dir}/{index['files']['optimizer_state']}")[0]
    assert all(float(t.abs().max()) == 0 for t in state.values()), "golden files start from zero moments"
    tensors = {}
    for name, tensor in trajectory.items():
        if name.startswith("step_"):
            tensors[name] = tensor
    for name, tensor in ref["params_initial"].items():
        tensors["parameters/" + name] = tensor
    for name in ("mlm_loss", "disc_loss", "total_loss"):
        tensors["reference." + name] = ref["step0"][name].reshape(1)
    for name in ("mlm_logits", "disc_logits", "disc_labels"):
        tensors["reference." + name] = ref["step0"][name]
    for name, tensor in ref["gradients"].items():
        tensors["gradients/" + name] = tensor
    for name, tensor in ref["params_final"].items():
        tensors["final/" + name] = tensor
    dtype = ref["step0"]["total_loss"].dtype
    for name in ("mlm_loss", "disc_loss", "total_loss", "grad_norm"):
        tensors["trajectory." + name] = torch.tensor([r[name] for r in ref["losses"]], dtype=dtype)
    metadata = {"format": "electra-golden", "version": 1, "dtype": index["dtype"],
                "seed": index["seed"], "steps": index["steps"],
                "config": json.dumps(index["config"], sort_keys=True),
                "optimizer": json.dumps(index["optimizer"], sort_keys=True),
                "schedule": json.dumps(index["schedule"], sort_keys=True),
                "produced_by": f"tools/reference/electra_reference.py (torch {torch.__version__}, CPU)",
                "regenerate": command}
    save_safetensors(path, tensors, metadata)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", required=True, help="directory written by `electra audit --dump`")
    parser.add_argument("--write-golden", help="write a golden fixture (inputs + reference results)")
    parser.add_argument("--command", default="tests/golden/regenerate.sh",
                        help="regeneration command recorded in the fixture")
    args = parser.parse_args()
    torch.set_num_threads(1)
    index = json.load(open(f"{args.dump}/audit.json"))
    dtype = torch.float64 if index["dtype"] == "f64" else torch.float32
    index, ref = run(args.dump, dtype)
    print(f"reference: torch {torch.__version__} CPU, {index['dtype']}, {index['steps']} update(s), "
          f"source: {index['source']}")
    failures = compare(args.dump, index, ref, dtype)
    if args.write_golden:
        write_golden(args.write_golden, args.dump, index, ref, args.command)
        print(f"wrote {args.write_golden}")
    print("verdict:", "pass" if failures == 0 else f"FAIL ({failures} comparisons)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
