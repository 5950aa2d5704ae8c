#!/usr/bin/python3
"""Independent PyTorch reference for one pre-training update and a short trajectory.

Written from the ELECTRA paper (Clark et al. 2020), BERT's encoder, the papers of the other
objectives and DESIGN.md §2/§4 -- not from electra.cpp's C++ -- so that agreement means
something. It reads a dump written by `electra audit --dump DIR` (docs/audit.md): the parameters,
the batch, the masked positions and the generator's sampled ids (fed in, so no random number
generator has to agree), recomputes every named loss of the dump's objective
(reference_objectives.py; the networks are in reference_model.py), every gradient
(torch.autograd) and the AdamW updates, and compares.

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

import reference_objectives
from reference_model import decays

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


# ----------------------------------------------------------------------------- the update (§2.10)
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
              "masked_ids", "masked_weights", "sampled_ids"]  # sampled_ids: absent when nothing is sampled
    return {f: tensors[prefix + f] for f in fields if prefix + f in tensors}


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


# The step's tensors compared and written to fixtures when the objective defines them.
OUTPUT_TENSORS = ("mlm_logits", "disc_logits", "disc_labels", "disc_weights")
EXACT_TENSORS = ("corrupted_ids", "disc_labels")  # ids and 0/1 labels (disc_weights: electra_hp's are real)


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
        result = reference_objectives.step(params, batch, config, first + k)
        result["total_loss"].backward()
        # A parameter the objective never reads gets a zero gradient (as our dump writes).
        grads = {n: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().clone()
                 for n, p in params.items()}
        record = {"total_loss": float(result["total_loss"])}
        for name, loss, weight in result["losses"]:
            record[name + "_loss"], record[name + "_weight"] = float(loss), float(weight)
        out["loss_names"] = [name for name, _, _ in result["losses"]]
        out["losses"].append(record)
        if k == 0:
            out["step0"] = {n: t.detach().clone() for n, t in result.items() if torch.is_tensor(t)}
            for name, loss, weight in result["losses"]:
                out["step0"][name + "_loss"] = loss.detach().clone()
                out["step0"][name + "_weight"] = torch.tensor(float(weight), dtype=dtype)
            out["gradients"] = grads
        norm = adamw_update(params, grads, moments, opt, learning_rate(schedule, first + k), first + k)
        out["losses"][-1]["grad_norm"] = norm
        if k == 0:
            out["params_after"] = {n: p.detach().clone() for n, p in params.items()}
    out["params_final"] = {n: p.detach().clone() for n, p in params.items()}
    out["params_initial"] = load("parameters")
    return index, out


def scalar_names(ref):
    """<name>_loss and <name>_weight of every named loss, then total_loss."""
    return [f"{n}_{kind}" for n in ref["loss_names"] for kind in ("loss", "weight")] + ["total_loss"]


def compare(dump_dir, index, ref, dtype):
    f64 = dtype == torch.float64
    loss_tol, rtol = (1e-10, 1e-9) if f64 else (1e-5, 1e-4)
    step = load_safetensors(f"{dump_dir}/{index['files']['step']}")[0]
    failures = 0
    ours_names = index.get("loss_names", ["mlm", "disc"])
    if ours_names != ref["loss_names"]:
        print(f"named losses differ: ours {ours_names}, reference {ref['loss_names']}")
        failures += 1
    worst = {"loss": 0.0}
    print(f"{'quantity':<44} {'ours':>22} {'reference':>22} {'rel err':>10}")
    for name in scalar_names(ref):
        if name not in step:
            print(f"{name:<44} {'(not in the dump)':>22}")
            failures += name.endswith("_loss")  # old dumps carry no weights
            continue
        ours, theirs = float(step[name][0]), float(ref["step0"][name])
        rel = abs(ours - theirs) / abs(theirs) if theirs != 0 else abs(ours)
        failures += rel > loss_tol
        worst["loss"] = max(worst["loss"], rel)
        print(f"{name:<44} {ours:>22.15g} {theirs:>22.15g} {rel:>10.2e}")
    for name in OUTPUT_TENSORS + ("corrupted_ids",):
        if (name in step) != (name in ref["step0"]):
            print(f"{name:<44} {'only in ' + ('ours' if name in step else 'the reference'):>22}")
            failures += 1
            continue
        if name not in step:
            continue
        if name in EXACT_TENSORS:
            same = torch.equal(step[name].double(), ref["step0"][name].double())
            failures += not same
            print(f"{name:<44} {'identical' if same else 'DIFFERENT':>22}")
        else:
            rel, _, _ = relative_error(step[name], ref["step0"][name])
            failures += rel > rtol
            worst[name] = rel
            print(f"{name:<44} {'':>22} {'':>22} {rel:>10.2e}")
    ours_traj = load_safetensors(f"{dump_dir}/{index['files']['trajectory']}")[0]
    worst["trajectory"] = 0.0
    for name in scalar_names(ref):
        if name not in ours_traj:
            continue
        for k, r in enumerate(ref["losses"]):
            ours, theirs = float(ours_traj[name][k]), r[name]
            rel = abs(ours - theirs) / abs(theirs) if theirs != 0 else abs(ours)
            worst["trajectory"] = max(worst["trajectory"], rel)
    failures += worst["trajectory"] > loss_tol * 10
    print(f"{'trajectory losses+weights (worst of %d updates)' % len(ref['losses']):<44} {'':>45} "
          f"{worst['trajectory']:>10.2e}")

    # Gradients and parameters: worst relative error (max|Δ| / max|ref|) per tensor family.
    for title, key, file_key in (("gradient", "gradients", "gradients"),
                                 ("parameters after update 1", "params_after", "parameters_after"),
                                 ("parameters after the trajectory", "params_final", "parameters_final")):
        ours = load_safetensors(f"{dump_dir}/{index['files'][file_key]}")[0]
        by_family = {}
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
            if size >= 1e3 * (1e-13 if f64 else 1e-6) and rel > by_family.get(fam, (0.0, ""))[0]:  # key biases: noise
                by_family[fam] = (rel, name)
            if not ok:
                print(f"  FAIL {title} {name}: max|Δ| {delta:.3e}, max|ref| {size:.3e}")
        for fam in sorted(by_family):
            print(f"{title + ' — ' + fam:<44} {by_family[fam][1][-40:]:>45} {by_family[fam][0]:>10.2e}")
        worst[title] = max([r for r, _ in by_family.values()] + [0.0])
    print("worst: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    return failures


def write_golden(path, dump_dir, index, ref, command, dtype):
    """The fixture the C++ tests read: the dump's inputs and the reference's results, floats in
    the dump's dtype."""
    trajectory = load_safetensors(f"{dump_dir}/{index['files']['trajectory']}")[0]
    state = load_safetensors(f"{dump_dir}/{index['files']['optimizer_state']}")[0]
    assert all(float(t.abs().max()) == 0 for t in state.values()), "golden files start from zero moments"
    tensors = {}
    for name, tensor in trajectory.items():
        if name.startswith("step_"):
            tensors[name] = tensor
    for name, tensor in ref["params_initial"].items():
        tensors["parameters/" + name] = tensor
    for name in scalar_names(ref):
        tensors["reference." + name] = ref["step0"][name].reshape(1)
    for name in OUTPUT_TENSORS:
        if name in ref["step0"]:
            tensors["reference." + name] = ref["step0"][name]
    for name, tensor in ref["gradients"].items():
        tensors["gradients/" + name] = tensor
    for name, tensor in ref["params_final"].items():
        tensors["final/" + name] = tensor
    precision = ref["step0"]["total_loss"].dtype
    for name in scalar_names(ref) + ["grad_norm"]:
        tensors["trajectory." + name] = torch.tensor([r[name] for r in ref["losses"]], dtype=dtype)
    metadata = {"format": "electra-golden", "version": 1, "dtype": index["dtype"],
                "seed": index["seed"], "steps": index["steps"],
                "objective": index["config"].get("objective", "electra"),
                "losses": ",".join(ref["loss_names"]),
                "config": json.dumps(index["config"], sort_keys=True),
                "optimizer": json.dumps(index["optimizer"], sort_keys=True),
                "schedule": json.dumps(index["schedule"], sort_keys=True),
                "produced_by": f"tools/reference/electra_reference.py (torch {torch.__version__}, CPU, "
                               f"computed in {NAMES[precision]})",
                "regenerate": command}
    # Results computed in f64 for an f32 fixture are rounded to f32 (inputs are f32 already).
    results = ("reference.", "gradients/", "final/", "trajectory.")
    tensors = {name: t.to(dtype) if name.startswith(results) and t.is_floating_point() else t
               for name, t in tensors.items()}
    save_safetensors(path, tensors, metadata)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", required=True, help="directory written by `electra audit --dump`")
    parser.add_argument("--write-golden", help="write a golden fixture (inputs + reference results)")
    parser.add_argument("--command", default="tests/golden/regenerate.sh",
                        help="regeneration command recorded in the fixture")
    parser.add_argument("--precision", choices=("dump", "f64"), default="dump",
                        help="compute in the dump's dtype (default) or in float64 from the dump's "
                             "(f32-rounded) inputs; the tolerances stay the dump's")
    args = parser.parse_args()
    torch.set_num_threads(1)
    index = json.load(open(f"{args.dump}/audit.json"))
    dtype = torch.float64 if index["dtype"] == "f64" else torch.float32
    precision = torch.float64 if args.precision == "f64" else dtype
    index, ref = run(args.dump, precision)
    print(f"reference: torch {torch.__version__} CPU, {index['dtype']} dump computed in "
          f"{NAMES[precision]}, {index['steps']} update(s), source: {index['source']}")
    failures = compare(args.dump, index, ref, dtype)
    if args.write_golden:
        write_golden(args.write_golden, args.dump, index, ref, args.command, dtype)
        print(f"wrote {args.write_golden}")
    print("verdict:", "pass" if failures == 0 else f"FAIL ({failures} comparisons)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
