"""Fine-tune MiniLM-L6 as a cross-encoder goal judge and measure it against the rules on a validation split.

The bi-encoder judge (learned_judge.py) compares goal and turn vectors made apart; this tests whether the
model reading `[CLS] goal [SEP] turn [SEP]` together judges better. It needs PyTorch, which is no part of
the project: run it from a throwaway environment that has torch and the project's packages. Only the
numpy judge (bench/cross_judge.py) and the fine-tuned layers it writes would ship.

Data: every tuning split but the validation one (default tuning-round6-heldout), each labelled turn, plus,
as a call asks about every goal each turn, per turn `--negatives` other goals of its call that the rules
find unmet and as many goal strings of other scenario types, labelled not met (as bench/judge_model.py
trains its gate), and the hand-labelled cross-goal pairs (met or not met; borderline ones are left out).
Held-out splits (heldout*.jsonl) are refused.

Model: the wheel's safetensors in a small torch BERT whose tensors keep the wheel's names. The embeddings and
the layers below `--trainable` top layers are frozen (their outputs are computed once and cached), the top
layers and a logistic head over mean-pooled tokens are trained by AdamW. With --save the trained layers
are written as float16 npz, the head as float32.

Scoring, on the validation split: the cross judge alone (met when p >= 0.5), the rules, a veto (a rule's met
with p < t becomes uncertain) and a rescue (a rule's not met or uncertain with p > t becomes met), and the
validation turns paired with every other goal of their call: how many get p > t.

    python bench/cross_judge_train.py [--trainable N] [--epochs E] [--save NPZ] [--out JSON]
    python bench/cross_judge_train.py --cost N --weights NPZ   # numpy only: CPU ms per pair
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench.judge_model import CROSS_LABELS, cross_goal_pairs, negatives, other_type_pairs  # noqa: E402
from bench.verdicts import CORPUS_DIR, Tally, Turn, goals_by_turn, read_corpus, verdict_of  # noqa: E402
from bench.cross_judge import load_cross_judge, pair_ids  # noqa: E402
from callers.scenario.goals import MET, NOT_MET, UNCERTAIN, GoalTracker  # noqa: E402
from callers.scenario.scenarios import load_scenarios  # noqa: E402
from callers.scenario.sentence_encoder import model_dir, read_safetensors, shared_encoder  # noqa: E402

VALIDATION = "tuning-round6-heldout"
TRAINABLE, EPOCHS, BATCH, LEARNING_RATE, WEIGHT_DECAY, WARMUP, DROPOUT = 2, 3, 32, 1e-4, 0.01, 0.1, 0.1
NEGATIVES = 1
VETOES = (0.05, 0.1, 0.2, 0.3)
RESCUES = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99)


@dataclasses.dataclass(frozen=True)
class Pair:
    """One (goal, turn) example: its id ("turn id" or "turn id|goal"), texts, label and voice."""

    id: str
    goal: str
    text: str
    label: str
    voice: str


def load_data(validation: str, negatives_per_turn: int, other_types_per_turn: int = NEGATIVES
              ) -> tuple[list[Pair], list[Turn], list[tuple[Turn, str]]]:
    """Training pairs, the validation turns, and the validation turns' other goals (with the rules' verdict)."""
    goals = goals_by_turn(load_scenarios())
    by_type: dict[str, set[str]] = defaultdict(set)
    for scenario_type, goal in goals:
        by_type[scenario_type].add(goal)
    files = sorted(CORPUS_DIR.glob("tuning*.jsonl"))  # never heldout*.jsonl
    splits = {p.stem: read_corpus(p, by_type) for p in files}
    if validation not in splits:
        raise SystemExit(f"cross_judge_train: no tuning split {validation}")
    train = [t for name, turns in splits.items() if name != validation for t in turns]
    hand = json.loads(CROSS_LABELS.read_text(encoding="utf-8"))
    pairs = [Pair(t.id, t.goal, t.text, t.label, t.voice) for t in train]
    cross = cross_goal_pairs(train, goals)
    chosen = {p.id for p in negatives(cross, negatives_per_turn)}
    chosen |= {p.id for p in other_type_pairs(train, goals, other_types_per_turn)}
    extra = {p.id: p for p, _ in cross} | {p.id: p for p in other_type_pairs(train, goals, other_types_per_turn)}
    for key in sorted(chosen):
        if key not in hand:
            p = extra[key]
            pairs.append(Pair(p.id, p.goal, p.text, NOT_MET, p.voice))
    known = {t.id: t for t in train}
    for key, label in sorted(hand.items()):
        turn_id, _, goal = key.partition("|")
        if label in (MET, NOT_MET) and turn_id in known:
            t = known[turn_id]
            pairs.append(Pair(key, goal, t.text, label, t.voice))
    held = splits[validation]
    return pairs, held, cross_goal_pairs(held, goals)


# ---------------------------------------------------------------- torch model (imported only when training)

def build_torch(trainable: int, dropout: float) -> Any:
    import torch
    import torch.nn.functional as F

    class CrossBert(torch.nn.Module):
        """MiniLM-L6 as a pair classifier; parameters keyed by the wheel's tensor names ('.' -> '__')."""

        def __init__(self) -> None:
            super().__init__()
            config = json.loads((model_dir() / "config.json").read_text(encoding="utf-8"))
            self.heads = int(config["num_attention_heads"])
            self.count = int(config["num_hidden_layers"])
            self.eps = float(config["layer_norm_eps"])
            self.first = self.count - trainable
            weights = read_safetensors(model_dir() / "model.safetensors")
            self.p = torch.nn.ParameterDict()
            for name, array in weights.items():
                if name.startswith("pooler."):
                    continue
                trained = (name.startswith("encoder.layer.") and int(name.split(".")[2]) >= self.first) or (
                    self.first == 0 and name.startswith("embeddings."))
                self.p[name.replace(".", "__")] = torch.nn.Parameter(torch.tensor(np.array(array, np.float32)),
                                                                     requires_grad=trained)
            width = int(config["hidden_size"])
            self.p["head__weight"] = torch.nn.Parameter(torch.zeros(width))
            self.p["head__bias"] = torch.nn.Parameter(torch.zeros(1))

        def w(self, name: str) -> Any:
            return self.p[name.replace(".", "__")]

        def embed(self, ids: Any, types: Any) -> Any:
            positions = torch.arange(ids.shape[1])
            x = (self.w("embeddings.word_embeddings.weight")[ids] + self.w("embeddings.position_embeddings.weight")
                 [positions][None] + self.w("embeddings.token_type_embeddings.weight")[types])
            x = F.layer_norm(x, x.shape[-1:], self.w("embeddings.LayerNorm.weight"),
                             self.w("embeddings.LayerNorm.bias"), self.eps)
            return F.dropout(x, dropout, self.training) if self.first == 0 else x

        def layer(self, i: int, x: Any, mask: Any) -> Any:
            p = f"encoder.layer.{i}."
            drop = dropout if i >= self.first else 0.0

            def lin(name: str, h: Any) -> Any:
                return F.linear(h, self.w(p + name + ".weight"), self.w(p + name + ".bias"))
            b, n, width = x.shape
            size = width // self.heads
            q, k, v = (lin(part, x).view(b, n, self.heads, size).transpose(1, 2)
                       for part in ("attention.self.query", "attention.self.key", "attention.self.value"))
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(size) + mask[:, None, None, :]
            attention = F.dropout(torch.softmax(scores, dim=-1), drop, self.training)
            context = (attention @ v).transpose(1, 2).reshape(b, n, width)
            x = F.layer_norm(x + F.dropout(lin("attention.output.dense", context), drop, self.training), (width,),
                             self.w(p + "attention.output.LayerNorm.weight"),
                             self.w(p + "attention.output.LayerNorm.bias"), self.eps)
            h = lin("output.dense", F.gelu(lin("intermediate.dense", x)))
            return F.layer_norm(x + F.dropout(h, drop, self.training), (width,), self.w(p + "output.LayerNorm.weight"),
                                self.w(p + "output.LayerNorm.bias"), self.eps)

        def lower(self, ids: Any, types: Any, valid: Any) -> Any:
            """Hidden states entering the first trained layer."""
            mask = (1.0 - valid.float()) * -1e9
            x = self.embed(ids, types)
            for i in range(self.first):
                x = self.layer(i, x, mask)
            return x

        def upper(self, x: Any, valid: Any) -> Any:
            """Logits from the hidden states entering the first trained layer."""
            mask = (1.0 - valid.float()) * -1e9
            for i in range(self.first, self.count):
                x = self.layer(i, x, mask)
            weights = valid.float()[..., None]
            pooled = (x * weights).sum(dim=1) / weights.sum(dim=1)
            pooled = F.dropout(pooled, dropout, self.training)
            return pooled @ self.w("head.weight") + self.w("head.bias")

        def trained_arrays(self) -> dict[str, np.ndarray]:
            return {name.replace("__", "."): param.detach().numpy().copy() for name, param in self.p.items()
                    if param.requires_grad}

    return CrossBert()


def batches(lengths: list[int], size: int, rng: random.Random, shuffle: bool) -> list[list[int]]:
    """Indices in batches of similar length (little padding), the batches shuffled when training."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random() if shuffle else i))
    found = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng.shuffle(found)
    return found


def padded(encoded: list[tuple[list[int], list[int]]], rows: list[int]) -> tuple[Any, Any, Any]:
    import torch
    n = max(len(encoded[r][0]) for r in rows)
    ids = torch.zeros((len(rows), n), dtype=torch.long)
    types = torch.zeros((len(rows), n), dtype=torch.long)
    valid = torch.zeros((len(rows), n), dtype=torch.bool)
    for j, r in enumerate(rows):
        a, t = encoded[r]
        ids[j, :len(a)] = torch.tensor(a)
        types[j, :len(t)] = torch.tensor(t)
        valid[j, :len(a)] = True
    return ids, types, valid


class Runner:
    """The model with a cache of the frozen layers' outputs per encoded pair (exact: frozen layers run in eval)."""

    def __init__(self, model: Any, encoded: list[tuple[list[int], list[int]]]) -> None:
        self.model = model
        self.encoded = encoded
        self.cache: dict[int, Any] = {}

    def lower_states(self, rows: list[int]) -> tuple[Any, Any]:
        import torch
        missing = sorted((r for r in rows if r not in self.cache), key=lambda r: len(self.encoded[r][0]))
        if missing and self.model.first > 0:
            with torch.no_grad():
                was = self.model.training
                self.model.eval()
                for chunk in range(0, len(missing), 64):
                    part = missing[chunk:chunk + 64]
                    ids, types, valid = padded(self.encoded, part)
                    states = self.model.lower(ids, types, valid)
                    for j, r in enumerate(part):
                        self.cache[r] = states[j, :len(self.encoded[r][0])].clone()
                self.model.train(was)
        if self.model.first == 0:
            ids, types, valid = padded(self.encoded, rows)
            return self.model.lower(ids, types, valid), valid
        n = max(len(self.encoded[r][0]) for r in rows)
        x = torch.zeros((len(rows), n, self.cache[rows[0]].shape[-1]))
        valid = torch.zeros((len(rows), n), dtype=torch.bool)
        for j, r in enumerate(rows):
            x[j, :self.cache[r].shape[0]] = self.cache[r]
            valid[j, :self.cache[r].shape[0]] = True
        return x, valid

    def probabilities(self, rows: list[int]) -> np.ndarray:
        import torch
        self.model.eval()
        found = np.zeros(len(rows))
        position = {r: i for i, r in enumerate(rows)}
        with torch.no_grad():
            for batch in batches([len(self.encoded[r][0]) for r in rows], 64, random.Random(0), False):
                chosen = [rows[i] for i in batch]
                x, valid = self.lower_states(chosen)
                p = torch.sigmoid(self.model.upper(x, valid)).numpy()
                for r, q in zip(chosen, p):
                    found[position[r]] = q
        return found


def train(runner: Runner, rows: list[int], labels: np.ndarray, epochs: int, seed: int, log: Any,
          learning_rate: float = LEARNING_RATE) -> float:
    import torch
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = runner.model
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for n, p in model.p.items() if p.requires_grad and p.dim() > 1]
    plain = [p for n, p in model.p.items() if p.requires_grad and p.dim() <= 1]
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": plain, "weight_decay": 0.0}], lr=learning_rate)
    lengths = [len(runner.encoded[r][0]) for r in rows]
    steps = epochs * math.ceil(len(rows) / BATCH)
    warm = max(int(steps * WARMUP), 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(steps - warm, 1))))
    started = time.process_time()
    step = 0
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for batch in batches(lengths, BATCH, rng, True):
            chosen = [rows[i] for i in batch]
            x, valid = runner.lower_states(chosen)
            logits = model.upper(x, valid)
            y = torch.tensor(labels[batch], dtype=torch.float32)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            total += float(loss.detach()) * len(batch)
            seen += len(batch)
            if step % 50 == 0:
                print(f"  epoch {epoch + 1} step {step}/{steps} loss {total / seen:.4f} "
                      f"cpu {time.process_time() - started:.0f}s", file=log, flush=True)
        print(f"epoch {epoch + 1}: mean loss {total / seen:.4f}, cpu {time.process_time() - started:.0f}s",
              file=log, flush=True)
    return time.process_time() - started


# ---------------------------------------------------------------- scoring

def figures(labels: list[str], verdicts: list[str]) -> dict:
    tally = Tally()
    for label, verdict in zip(labels, verdicts):
        tally.add(Turn("", "", "", "", "", label, "", ""), verdict)
    found = tally.figures()
    found.pop("wrong")
    return found


def hybrid(rule: str, p: float, veto: Optional[float], rescue: Optional[float]) -> str:
    if veto is not None and rule == MET and p < veto:
        return UNCERTAIN
    if rescue is not None and rule != MET and p > rescue:
        return MET
    return rule


def score(turns: list[Turn], rules: list[str], p: np.ndarray, cross_p: np.ndarray,
          cross_rules: list[str]) -> dict:
    labels = [t.label for t in turns]
    out: dict = {"cross judge p>=0.5": figures(labels, [MET if q >= 0.5 else NOT_MET for q in p]),
                 "rules": figures(labels, rules)}
    for veto in VETOES:
        out[f"veto<{veto}"] = figures(labels, [hybrid(r, q, veto, None) for r, q in zip(rules, p)])
    for rescue in RESCUES:
        out[f"rescue>{rescue}"] = figures(labels, [hybrid(r, q, None, rescue) for r, q in zip(rules, p)])
        for veto in VETOES:
            out[f"veto<{veto},rescue>{rescue}"] = figures(labels, [hybrid(r, q, veto, rescue)
                                                                   for r, q in zip(rules, p)])
    cross = {"pairs": len(cross_p), "rules_met": sum(v == MET for v in cross_rules)}
    for rescue in RESCUES:
        cross[f"p>{rescue}"] = round(float((cross_p > rescue).mean()), 4)
        cross[f"rescued>{rescue}"] = round(float(np.mean([q > rescue and v != MET
                                                          for q, v in zip(cross_p, cross_rules)])), 4)
    out["cross_goal"] = cross
    voices: dict = {}
    for voice in sorted({t.voice for t in turns}):
        idx = [i for i, t in enumerate(turns) if t.voice == voice]
        sub = [labels[i] for i in idx]
        voices[voice] = {"rules": figures(sub, [rules[i] for i in idx]),
                         "cross judge p>=0.5": figures(sub, [MET if p[i] >= 0.5 else NOT_MET for i in idx])}
    out["voices"] = voices
    return out


def print_table(found: dict) -> None:
    print(f"  {'variant':28} {'acc':>7} {'false met':>10} {'false unmet':>12} {'uncertain':>10}")
    for name, f in found.items():
        if name in ("cross_goal", "voices"):
            continue
        print(f"  {name:28} {f['accuracy'] * 100:6.1f}% {f['false_met_rate'] * 100:9.1f}% "
              f"{f['false_unmet_rate'] * 100:11.1f}% {f['uncertain_share'] * 100:9.1f}%")
    print("  cross-goal:", json.dumps(found["cross_goal"]))
    for voice, f in found["voices"].items():
        r, c = f["rules"], f["cross judge p>=0.5"]
        print(f"  voice {voice:11} rules {r['accuracy'] * 100:5.1f}% / {r['false_met_rate'] * 100:4.1f}% fm   "
              f"cross {c['accuracy'] * 100:5.1f}% / {c['false_met_rate'] * 100:4.1f}% fm "
              f"/ {c['false_unmet_rate'] * 100:4.1f}% fu")


def cost(pairs: int, weights: Path) -> dict:
    """CPU ms per (goal, turn) pair of the numpy cross judge, on the first validation turns' goals."""
    judge = load_cross_judge(weights)
    _, held, cross = load_data(VALIDATION, 0, 0)
    sample = [(t.goal, t.text) for t in held[:pairs]]
    judge.probability(*sample[0])
    started, wall = time.process_time(), time.perf_counter()
    for goal, text in sample:
        judge.probability(goal, text)
    tokens = [len(pair_ids(judge.encoder, g, t)[0]) for g, t in sample]
    return {"pairs": len(sample), "cpu_ms_per_pair": round((time.process_time() - started) * 1000 / len(sample), 2),
            "wall_ms_per_pair": round((time.perf_counter() - wall) * 1000 / len(sample), 2),
            "mean_tokens": round(float(np.mean(tokens)), 1), "weights_bytes": weights.stat().st_size}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validation", default=VALIDATION, help="the tuning split scored, never trained on")
    parser.add_argument("--trainable", type=int, default=TRAINABLE, help="top layers fine-tuned (6: all, and "
                        "the embeddings)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--lr", type=float, default=LEARNING_RATE, help="AdamW's peak learning rate")
    parser.add_argument("--negatives", type=int, default=NEGATIVES, help="cross-goal negatives of each kind per turn")
    parser.add_argument("--other-types", type=int, default=NEGATIVES,
                        help="goal strings of other scenario types per turn, as not met")
    parser.add_argument("--limit", type=int, default=0, help="train on at most this many pairs (0: all)")
    parser.add_argument("--held-limit", type=int, default=0, help="smoke test: score only this many validation turns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, metavar="NPZ", help="write the fine-tuned part as npz here")
    parser.add_argument("--out", type=Path, help="write figures and probabilities as JSON here")
    parser.add_argument("--check", type=int, default=300, help="pairs compared between torch and numpy")
    parser.add_argument("--cost", type=int, metavar="N", help="numpy only: CPU ms per pair on N pairs, and stop")
    parser.add_argument("--weights", type=Path, metavar="NPZ", help="with --cost: the fine-tuned part to time")
    args = parser.parse_args(argv)
    if args.cost and args.weights is None:
        parser.error("--cost needs --weights NPZ, the fine-tuned part that --save wrote")
    if args.cost:
        print(json.dumps({"bench": "cross_judge", "cost": cost(args.cost, args.weights)}))
        return 0
    import torch
    torch.set_num_threads(1)
    pairs, held, cross = load_data(args.validation, args.negatives, args.other_types)
    if args.limit:
        pairs = random.Random(args.seed).sample(pairs, min(args.limit, len(pairs)))
    if args.held_limit:
        held = held[:args.held_limit]
        kept = {t.id for t in held}
        cross = [c for c in cross if c[0].id.partition("|")[0] in kept]
    goals = goals_by_turn(load_scenarios())
    rules = [verdict_of(t, GoalTracker(goals[(t.scenario_type, t.goal)])) for t in held]
    cross_rules = [v for _, v in cross]
    encoder = shared_encoder()
    everything = ([(p.goal, p.text) for p in pairs] + [(t.goal, t.text) for t in held]
                  + [(c.goal, c.text) for c, _ in cross])
    encoded = [pair_ids(encoder, g, t) for g, t in everything]
    print(f"training pairs {len(pairs)} ({sum(p.label == MET for p in pairs)} met), validation turns {len(held)}, "
          f"their other goals {len(cross)}; mean tokens {np.mean([len(e[0]) for e in encoded]):.1f}", flush=True)
    model = build_torch(args.trainable, DROPOUT)
    runner = Runner(model, encoded)
    train_rows = list(range(len(pairs)))
    held_rows = list(range(len(pairs), len(pairs) + len(held)))
    cross_rows = list(range(len(pairs) + len(held), len(encoded)))
    started = time.process_time()
    if args.trainable < 6:
        runner.lower_states(train_rows + held_rows + cross_rows)
    cache_s = time.process_time() - started
    print(f"frozen layers cached: {cache_s:.0f}s cpu", flush=True)
    labels = np.array([p.label == MET for p in pairs], float)
    train_s = train(runner, train_rows, labels, args.epochs, args.seed, sys.stdout, args.lr)
    # what ships: the trained layers as float16; score with exactly those
    with torch.no_grad():
        for name, param in model.p.items():
            if param.requires_grad and not name.startswith("head"):
                param.copy_(param.half().float())
    p_held = runner.probabilities(held_rows)
    p_cross = runner.probabilities(cross_rows)
    found = score(held, rules, p_held, p_cross, cross_rules)
    print(f"\n== validation {args.validation}: {len(held)} turns; trainable top {args.trainable} layers, "
          f"{args.epochs} epochs, {len(pairs)} pairs, train cpu {train_s:.0f}s, cache cpu {cache_s:.0f}s")
    print_table(found)
    result: dict = {"figures": found, "train_cpu_s": round(train_s, 1), "cache_cpu_s": round(cache_s, 1),
                    "pairs": len(pairs), "trainable": args.trainable, "epochs": args.epochs}
    if args.save is not None:
        arrays = model.trained_arrays()
        ship = {name: (a.astype(np.float32) if name.startswith("head") else a.astype(np.float16))
                for name, a in arrays.items()}
        if args.trainable >= 6:
            print("not saving: a full fine-tune does not fit the npz format (embeddings)", file=sys.stderr)
        else:
            np.savez_compressed(args.save, **ship, goals=np.array(sorted({p.goal for p in pairs}), dtype=str),
                                note_trained_on=np.array(f"tuning splits but {args.validation}"),
                                note_setup=np.array(f"top {args.trainable} layers, {args.epochs} epochs, "
                                                    f"{len(pairs)} pairs, negatives {args.negatives}"))
            print(f"wrote {args.save} ({args.save.stat().st_size} bytes)")
            judge = load_cross_judge(args.save, encoder)
            rows = (held_rows + cross_rows)[:: max(1, (len(held_rows) + len(cross_rows)) // args.check)][:args.check]
            torch_p = runner.probabilities(rows)
            numpy_p = np.array([judge.probability(*everything[r]) for r in rows])
            diff = float(np.abs(torch_p - numpy_p).max())
            print(f"numpy vs torch on {len(rows)} pairs: max abs diff {diff:.2e}")
            result["numpy_torch_max_abs_diff"] = diff
    if args.out:
        result["p_validation"] = {t.id: float(q) for t, q in zip(held, p_held)}
        result["p_cross"] = {c.id: float(q) for (c, _), q in zip(cross, p_cross)}
        result["rules_validation"] = {t.id: r for t, r in zip(held, rules)}
        result["rules_cross"] = {c.id: r for (c, _), r in zip(cross, cross_rules)}
        args.out.write_text(json.dumps(result), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if not k.startswith(("p_", "rules_"))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
