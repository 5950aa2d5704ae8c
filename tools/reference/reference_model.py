"""The networks of the independent PyTorch reference (tools/reference/electra_reference.py).

Written from BERT's encoder, the ELECTRA paper (Clark et al. 2020) and DESIGN.md §2/§4 -- not from
electra.cpp's C++. Parameters are a dict of HF-named tensors (docs/audit.md, "Parameter names").
tools/reference/bench_torch.py rebinds gelu / layer_norm / linear / dropout of this module to time
training steps with torch's fused kernels.
"""
import math

import torch

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


def decays(name):
    """Weight decay for everything except LayerNorm parameters and biases."""
    return "LayerNorm" not in name and not name.endswith("bias")


# ----------------------------------------------------------------------------- the two networks
def generator_dims(config, full_size=False):
    """(hidden, heads) of the masked-LM network: the discriminator's when full_size (the BERT
    baseline), else round(size * generator_size), at least 1."""
    if full_size:
        return config["hidden_size"], config["num_heads"]
    hidden = max(1, math.floor(config["hidden_size"] * config["generator_size"] + 0.5))
    heads = max(1, math.floor(config["num_heads"] * config["generator_size"] + 0.5))
    return hidden, heads


def generator_hidden(params, ids, batch, config, full_size=False, embed=None):
    """The masked-LM network's encoder output [B, L, Hg] for input `ids` [B, L]. `embed` replaces
    the shared embedding step (GDES gives the discriminator its own tables; not used here)."""
    eps = config["layer_norm_eps"]
    hidden, heads = generator_dims(config, full_size)
    embedded = (embed or shared_embeddings)(ids, batch["token_type_ids"], params, eps)
    x = network_input(embedded, params, "generator.")
    assert x.shape[-1] == hidden, (x.shape, hidden)
    return encoder(x, batch["attention_mask"], params, "generator.", config["num_layers"], heads, eps)


def mlm_transform(params, h, config, prefix="generator."):
    """The first half of BERT's MLM head on hidden states h [..., Hg]: dense -> GELU -> LayerNorm,
    giving the state [..., E] that is scored against every word embedding."""
    eps = config["layer_norm_eps"]
    h = gelu(linear(h, params, prefix + "generator_predictions.dense"))
    return layer_norm(h, params[prefix + "generator_predictions.LayerNorm.weight"],
                      params[prefix + "generator_predictions.LayerNorm.bias"], eps)


def mlm_head(params, h, config, prefix="generator."):
    """BERT's MLM head: mlm_transform, then logits over the vocab with the output matrix TIED to
    the shared word embeddings plus the head's own bias."""
    t = mlm_transform(params, h, config, prefix)
    return t @ params["electra.embeddings.word_embeddings.weight"].t() + params[prefix + "generator_lm_head.bias"]


def at_positions(x, positions):
    """x [B, L, H] at positions [B, P] -> [B*P, H] (row b*P + p)."""
    picked = torch.gather(x, 1, positions.long()[:, :, None].expand(-1, -1, x.shape[-1]))
    return picked.reshape(-1, x.shape[-1])


def discriminator_hidden(params, ids, batch, config, embed=None):
    """The discriminator's encoder output [B, L, H] for input ids [B, L]."""
    eps = config["layer_norm_eps"]
    embedded = (embed or shared_embeddings)(ids, batch["token_type_ids"], params, eps)
    y = network_input(embedded, params, "discriminator.")
    return encoder(y, batch["attention_mask"], params, "discriminator.", config["num_layers"],
                   config["num_heads"], eps)


def discriminator_head(params, y):
    """ELECTRA's replaced-token head: dense -> GELU -> dense_prediction, one logit per token [B, L]."""
    z = gelu(linear(y, params, "discriminator.discriminator_predictions.dense"))
    return linear(z, params, "discriminator.discriminator_predictions.dense_prediction")[..., 0]
