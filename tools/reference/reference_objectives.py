"""The pre-training objectives of the independent PyTorch reference, one function per objective.

Each is written from the papers' math (Clark et al. 2020 for electra / electra15 / replace_mlm /
all_tokens_mlm / mlm; see /work/notes/objectives-research.md and docs/objectives.md for the
choices the papers leave open) -- not from electra.cpp's C++. The generator's samples are given
(`batch["sampled_ids"]`, recorded by `electra audit --dump`), so no sampling happens here.

An objective maps (params, batch, config, update) to a dict:
    losses        [(name, loss [], weight)]  total = sum of weight * loss, in this order
    total_loss    []
    mlm_logits    [B*P, V] (where defined), disc_logits / disc_labels / disc_weights [B, L],
    corrupted_ids [B, L] (int32)
`update` is the number of optimizer updates applied before this one (the curriculum's clock).
"""
import torch

import reference_model as model


# ----------------------------------------------------------------------------- shared pieces
def weighted_mean(values, weights):
    """sum w * value / (sum w + 1e-6): the normalisation of every loss of DESIGN §2."""
    return (values * weights).sum() / (weights.sum() + 1e-6)


def cross_entropy(logits, targets):
    """-log softmax(logits)[target] per row; logits [N, V], targets [N]."""
    return -torch.log_softmax(logits, dim=-1).gather(1, targets.long()[:, None])[:, 0]


def bce_with_logits(logits, labels):
    """Binary cross-entropy of sigmoid(logits) against labels, the stable form."""
    return torch.clamp(logits, min=0) - logits * labels + torch.log1p(torch.exp(-logits.abs()))


def float_dtype(params):
    return params["electra.embeddings.word_embeddings.weight"].dtype


def linear_ramp(start, target, ramp_updates, update):
    """A curriculum schedule: `start` at update 0, linear to `target` at update `ramp_updates`,
    `target` from then on (and throughout when ramp_updates is 0)."""
    if ramp_updates <= 0 or update >= ramp_updates:
        return target
    return start + (target - start) * (update / ramp_updates)


def discriminator_weight(config, update):
    """lambda at this update: the paper's constant disc_weight, or the curriculum's ramp to it."""
    return linear_ramp(config.get("disc_weight_start", 0.0), config["disc_weight"],
                       config.get("disc_weight_ramp_updates", 0), update)


def sampling_temperature(config, update):
    """T at this update: the constant temperature, or the curriculum's ramp to it."""
    return linear_ramp(config.get("temperature_start", 1.0), config["temperature"],
                       config.get("temperature_ramp_updates", 0), update)


def generator_loss_terms(logits, targets, config):
    """Per-slot generator loss: -log p (ELECTRA), or Hao et al.'s focal loss
    -(1 - p)^gamma * log p with gamma = generator_focal_gamma (Lin et al. 2017; the factor is
    NOT detached, as in the standard focal loss)."""
    log_p = -cross_entropy(logits, targets)
    gamma = config.get("generator_focal_gamma", 0.0)
    if gamma == 0:
        return -log_p
    return -((1.0 - torch.exp(log_p)) ** gamma) * log_p


def gdes_embeddings(ids, token_types, params, eps):
    """GDES (DeBERTaV3): the discriminator reads every shared embedding tensor X as
    X_D = stopgrad(X_G) + X_delta, so its loss trains the deltas and never the shared tensors."""
    e = "electra.embeddings."
    d = "discriminator.electra.embeddings."
    table = lambda name: params[e + name + ".weight"].detach() + params[d + name + "_delta.weight"]
    gamma = params[e + "LayerNorm.weight"].detach() + params[d + "LayerNorm_delta.weight"]
    beta = params[e + "LayerNorm.bias"].detach() + params[d + "LayerNorm_delta.bias"]
    positions = torch.arange(ids.shape[1])
    x = (table("word_embeddings")[ids.long()] + table("position_embeddings")[positions][None, :, :]
         + table("token_type_embeddings")[token_types.long()])
    return model.layer_norm(x, gamma, beta, eps)


def discriminator_embed(config):
    """The discriminator's embedding step: the shared one, or GDES's."""
    return gdes_embeddings if config.get("embedding_sharing", "tied") == "gdes" else None


def generator_pass(params, batch, config, full_size=False):
    """Generator on the masked ids -> MLM logits [B*P, V] at the masked positions, and its loss:
    sum over masked slots of w * CE / (sum w + 1e-6), w = masked_weights (0 for padding slots)."""
    h = model.generator_hidden(params, batch["masked_input_ids"], batch, config, full_size)
    logits = model.mlm_head(params, model.at_positions(h, batch["masked_positions"]), config)
    weights = batch["masked_weights"].to(logits.dtype).reshape(-1)
    terms = generator_loss_terms(logits, batch["masked_ids"].reshape(-1), config)
    return logits, weighted_mean(terms, weights)


def corrupt(batch):
    """The ORIGINAL ids with each real masked slot's sample written at its position; label 1 where
    the id changed (a sample equal to the original stays "original", as in the paper)."""
    original = batch["input_ids"].long()
    corrupted = original.clone()
    positions, samples = batch["masked_positions"].long(), batch["sampled_ids"].long()
    weights = batch["masked_weights"]
    for b in range(original.shape[0]):
        for p in range(positions.shape[1]):
            if weights[b, p] != 0:
                corrupted[b, positions[b, p]] = samples[b, p]
    return corrupted, corrupted != original


def masked_token_mask(batch):
    """[B, L] bool: the positions of real masked slots (the paper's set m)."""
    chosen = torch.zeros(batch["input_ids"].shape, dtype=torch.bool)
    positions, weights = batch["masked_positions"].long(), batch["masked_weights"]
    for b in range(positions.shape[0]):
        for p in range(positions.shape[1]):
            if weights[b, p] != 0:
                chosen[b, positions[b, p]] = True
    return chosen


def finish(out):
    out["total_loss"] = sum(weight * loss for _, loss, weight in out["losses"])
    return out


# ----------------------------------------------------------------------------- the objectives
def electra(params, batch, config, update, disc_positions=None):
    """Replaced-token detection (the paper's eq. 1-2): L_MLM + lambda * L_Disc, BCE over every
    non-pad token (or over `disc_positions` [B, L] when given: ELECTRA 15%)."""
    dtype = float_dtype(params)
    mlm_logits, mlm_loss = generator_pass(params, batch, config)
    corrupted, replaced = corrupt(batch)
    labels = replaced.to(dtype)
    y = model.discriminator_hidden(params, corrupted, batch, config, discriminator_embed(config))
    disc_logits = model.discriminator_head(params, y)
    weights = batch["attention_mask"].to(dtype) if disc_positions is None else disc_positions.to(dtype)
    disc_loss = weighted_mean(bce_with_logits(disc_logits, labels), weights)
    return finish({"losses": [("mlm", mlm_loss, config["mlm_weight"]),
                              ("disc", disc_loss, discriminator_weight(config, update))],
                   "mlm_logits": mlm_logits, "disc_logits": disc_logits, "disc_labels": labels,
                   "disc_weights": weights, "corrupted_ids": corrupted.to(torch.int32)})


def mlm(params, batch, config, update):
    """BERT's masked LM at the discriminator's size, no discriminator: mlm_weight * L_MLM."""
    mlm_logits, mlm_loss = generator_pass(params, batch, config, full_size=True)
    return finish({"losses": [("mlm", mlm_loss, config["mlm_weight"])], "mlm_logits": mlm_logits})


def electra15(params, batch, config, update):
    """ELECTRA 15% (the paper's Table 5): as electra, L_Disc summed over the masked positions
    (the set m) only instead of every token."""
    return electra(params, batch, config, update, disc_positions=masked_token_mask(batch))


def main_network_logits(params, y, config):
    """The masked-LM ablations' main network head: BERT's MLM head on the discriminator-sized
    hidden states (its own dense/LayerNorm/bias under `discriminator.`, output matrix tied to the
    shared word embeddings)."""
    return model.mlm_head(params, y, config, prefix="discriminator.")


def replace_mlm(params, batch, config, update):
    """Replace MLM (Table 5): the masked positions hold the generator's samples instead of [MASK]
    (x^c = REPLACE(x, m, x_hat)); the main network predicts x_i for i in m:
    L = sum_{i in m} -log p(x_i | x^c) (normalised as every MLM loss); the generator is trained
    jointly with its own MLM loss (total = mlm_weight * L_MLM + L)."""
    mlm_logits, mlm_loss = generator_pass(params, batch, config)
    corrupted, _ = corrupt(batch)
    y = model.discriminator_hidden(params, corrupted, batch, config)
    logits = main_network_logits(params, model.at_positions(y, batch["masked_positions"]), config)
    weights = batch["masked_weights"].to(logits.dtype).reshape(-1)
    main_loss = weighted_mean(cross_entropy(logits, batch["masked_ids"].reshape(-1)), weights)
    return finish({"losses": [("mlm", mlm_loss, config["mlm_weight"]), ("main_mlm", main_loss, 1.0)],
                   "mlm_logits": mlm_logits, "corrupted_ids": corrupted.to(torch.int32)})


def all_tokens_mlm(params, batch, config, update):
    """All-Tokens MLM with the copy mechanism (Table 5): inputs as Replace MLM; at every token t
    D_t = sigmoid(w^T h_t + b), p(y | x^c, t) = D_t * [y = x^c_t] + (1 - D_t) * softmax(W h_t)_y,
    L = sum_t -log p(x_t | x^c, t) over the non-pad tokens (normalised by their count)."""
    mlm_logits, mlm_loss = generator_pass(params, batch, config)
    corrupted, _ = corrupt(batch)
    y = model.discriminator_hidden(params, corrupted, batch, config)  # [B, L, H]
    rows = y.reshape(-1, y.shape[-1])
    softmax = torch.softmax(main_network_logits(params, rows, config), dim=-1)  # [B*L, V]
    copy = torch.sigmoid(model.linear(rows, params, "discriminator.copy_prediction")[:, 0])
    original = batch["input_ids"].reshape(-1).long()
    is_input = (corrupted.reshape(-1) == original).to(softmax.dtype)
    p_original = copy * is_input + (1.0 - copy) * softmax.gather(1, original[:, None])[:, 0]
    m = batch["attention_mask"].reshape(-1).to(softmax.dtype)
    main_loss = weighted_mean(-torch.log(p_original), m)
    return finish({"losses": [("mlm", mlm_loss, config["mlm_weight"]), ("main_mlm", main_loss, 1.0)],
                   "mlm_logits": mlm_logits, "corrupted_ids": corrupted.to(torch.int32)})


def electra_hp(params, batch, config, update):
    """Hao et al. 2021 as docs/objectives.md defines it (the paper's full text was not reachable):
    a hardness head h = sigmoid(GELU(sg(t) A^T + a) sg(W_word)^T + b) [K, V] on the generator's
    MLM-head state t predicts P(the discriminator misjudges candidate v at slot k); replacements
    are drawn from q ~ p_G * (h + eps) (given here); the disc BCE weights a masked token by
    p_G(x_hat) / q(x_hat) = Z / (h(x_hat) + eps), Z = sum_v p_G(v) (h_v + eps), every other
    non-pad token by 1 (self-normalised by the sum of weights); the head is trained by BCE on the
    sampled id against y = sg(P(D wrong)): 1 - sigmoid(z) where replaced, sigmoid(z) where not."""
    dtype = float_dtype(params)
    h = model.generator_hidden(params, batch["masked_input_ids"], batch, config)
    state = model.mlm_transform(params, model.at_positions(h, batch["masked_positions"]), config)
    word = params["electra.embeddings.word_embeddings.weight"]
    mlm_logits = state @ word.t() + params["generator.generator_lm_head.bias"]
    slot_weights = batch["masked_weights"].to(dtype).reshape(-1)
    targets = batch["masked_ids"].reshape(-1)
    mlm_loss = weighted_mean(generator_loss_terms(mlm_logits, targets, config), slot_weights)

    head = "objective.electra_hp."
    hardness_logits = (model.gelu(model.linear(state.detach(), params, head + "dense")) @ word.detach().t()
                       + params[head + "bias"])  # [K, V]
    samples = batch["sampled_ids"].reshape(-1).long()

    # The proposal's importance weights: data (no gradient), from this step's p_G and h.
    with torch.no_grad():
        temperature = sampling_temperature(config, update)
        scores = mlm_logits.detach().clone()
        if config.get("disallow_correct", False):
            scores[torch.arange(len(targets)), targets.long()] -= 1000.0 * temperature
        p_g = torch.softmax(scores / temperature, dim=-1)
        floored = torch.sigmoid(hardness_logits.detach()) + config["hardness_epsilon"]
        z = (p_g * floored).sum(dim=-1)
        importance = z / floored.gather(1, samples[:, None])[:, 0]  # p_G(x_hat) / q(x_hat)

    corrupted, replaced = corrupt(batch)
    labels = replaced.to(dtype)
    token_weights = batch["attention_mask"].to(dtype).clone()
    if config.get("hardness_importance_correction", True):
        positions = batch["masked_positions"].long()
        predictions = positions.shape[1]
        for k in range(len(samples)):
            if slot_weights[k] != 0:
                token_weights[k // predictions, positions[k // predictions, k % predictions]] *= importance[k]
    y = model.discriminator_hidden(params, corrupted, batch, config, discriminator_embed(config))
    disc_logits = model.discriminator_head(params, y)
    disc_loss = weighted_mean(bce_with_logits(disc_logits, labels), token_weights)

    # The head's target: the discriminator's detached probability of misjudging the sampled id.
    at_slots = lambda t: model.at_positions(t[:, :, None], batch["masked_positions"])[:, 0]
    p_replaced = torch.sigmoid(at_slots(disc_logits.detach()))
    target = torch.where(at_slots(labels) == 1, 1.0 - p_replaced, p_replaced)
    picked = hardness_logits.gather(1, samples[:, None])[:, 0]
    hardness_loss = weighted_mean(bce_with_logits(picked, target), slot_weights)
    return finish({"losses": [("mlm", mlm_loss, config["mlm_weight"]),
                              ("disc", disc_loss, discriminator_weight(config, update)),
                              ("hardness", hardness_loss, config["hardness_weight"])],
                   "mlm_logits": mlm_logits, "disc_logits": disc_logits, "disc_labels": labels,
                   "disc_weights": token_weights, "corrupted_ids": corrupted.to(torch.int32)})


OBJECTIVES = {"electra": electra, "mlm": mlm, "electra15": electra15, "replace_mlm": replace_mlm,
              "all_tokens_mlm": all_tokens_mlm, "electra_hp": electra_hp}


def step(params, batch, config, update):
    name = config.get("objective", "electra")
    if name not in OBJECTIVES:
        raise SystemExit(f"reference: unknown objective '{name}' in the dump's config "
                         f"(this reference knows: {', '.join(OBJECTIVES)})")
    return OBJECTIVES[name](params, batch, config, update)
