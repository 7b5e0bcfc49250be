"""eval.preference: on held-out pairs, the log-probability margin log p(chosen | prompt) -
log p(rejected | prompt) of the base model (adapter disabled) and the tuned one. Accuracy is the
share of pairs with a positive margin. This is DPO's implicit-reward ranking, measured without a
reference model, so base and tuned are scored alike. A run continued from another run's adapter
(model.adapter) is compared with the bare base here; its parent run's own evaluation gives the
middle point.

For marked replies (format kto) there is no pair to rank: each held-out reply's implicit reward is
log p_tuned(reply) - log p_base(reply), and accuracy is the share whose sign agrees with its mark
(raised for a good reply, lowered for a bad one), with the mean reward of each kind.
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path

from tuneforge.data.rows import marked_rows, preference_rows
from tuneforge.eval.generate import AdapterGenerator, adapter_switch
from tuneforge.eval.kit import for_each_variant, held_out
from tuneforge.files import write_json_atomic
from tuneforge.plots import pyplot, reporting_plot, save_figure

log = logging.getLogger(__name__)


def reply_logprob(model, tokenizer, prompt: list[dict], reply: list[dict]) -> float:
    """Sum of the reply's token log-probabilities after the prompt, under the chat template."""
    import torch

    context = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=False)
    full = tokenizer.apply_chat_template(prompt + reply, tokenize=True, return_dict=False)
    ids = torch.tensor([full], device=model.device)
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
    targets = ids[0, 1:]
    return logprobs[torch.arange(len(targets)), targets][len(context) - 1 :].sum().item()


def margins(model, tokenizer, rows: list[dict], use_adapter: bool) -> list[float]:
    with adapter_switch(model, use_adapter):
        return [
            reply_logprob(model, tokenizer, row["prompt"], row["chosen"])
            - reply_logprob(model, tokenizer, row["prompt"], row["rejected"])
            for row in rows
        ]


def summary(values: list[float]) -> dict:
    return {
        "accuracy": sum(value > 0 for value in values) / len(values),
        "mean_margin": statistics.fmean(values),
        "median_margin": statistics.median(values),
    }


def evaluate_preference(run, out_dir: Path) -> tuple[dict, str]:
    config = run.recipe.eval.preference
    samples = held_out(run, "eval.preference", split="test", fallback="val")
    generator = AdapterGenerator(run.path, run.manifest, run.recipe.model.trust_remote_code)
    model = generator.model.eval()
    if run.recipe.data.format == "kto":
        return evaluate_marked(model, generator.tokenizer, marked_rows(samples)[: config.max_pairs], out_dir)
    rows = preference_rows(samples)[: config.max_pairs]
    scored = for_each_variant(
        lambda tuned: margins(model, generator.tokenizer, rows, tuned), f"margins of {len(rows)} held-out pairs"
    )
    results = {"pairs": len(rows), **{variant: summary(values) for variant, values in scored.items()}}
    write_json_atomic(out_dir / "preference_margins.json", {"margins": scored, **results})
    plot_margins(out_dir / "preference_margins.png", scored)
    return results, markdown(results)


@reporting_plot
def plot_margins(output: Path, scored: dict[str, list[float]]) -> None:
    figure, axes = pyplot().subplots(figsize=(7, 4))
    for variant, values in scored.items():
        axes.hist(values, bins=20, alpha=0.6, label=f"{variant} (accuracy {summary(values)['accuracy']:.0%})")
    axes.axvline(0, color="black", linewidth=1)
    axes.set_xlabel("log p(chosen) - log p(rejected)  (nats, per held-out pair)")
    axes.set_ylabel("pairs")
    axes.legend()
    save_figure(figure, output)


def headline_rows(results: dict) -> list[tuple[str, float | None, float | None]]:
    """Pairs: how often the chosen reply ranks first and the mean margin, base and tuned. Marked replies:
    the implicit reward is the tuned model's against the base, so only the tuned column has values."""
    if "pairs" not in results:
        return [
            ("reward sign agrees with the mark", None, results["accuracy"]),
            ("mean reward, good replies", None, results["mean_reward_good"]),
            ("mean reward, bad replies", None, results["mean_reward_bad"]),
        ]
    return [
        ("chosen ranked first", results["base"]["accuracy"], results["tuned"]["accuracy"]),
        ("mean margin (nats)", results["base"]["mean_margin"], results["tuned"]["mean_margin"]),
    ]


def markdown(results: dict) -> str:
    lines = [
        f"## Preference ({results['pairs']} held-out pairs)",
        "",
        "| model | chosen ranked first | mean margin (nats) | median margin |",
        "|---|---|---|---|",
    ]
    for variant in ("base", "tuned"):
        row = results[variant]
        lines.append(f"| {variant} | {row['accuracy']:.1%} | {row['mean_margin']:.3f} | {row['median_margin']:.3f} |")
    return "\n".join(lines) + "\n"


def evaluate_marked(model, tokenizer, rows: list[dict], out_dir: Path) -> tuple[dict, str]:
    """Format kto: each held-out reply's implicit reward, tuned against base, by its good/bad mark."""
    scored = for_each_variant(
        lambda tuned: [reply_logprob_switched(model, tokenizer, row, tuned) for row in rows],
        f"log-probabilities of {len(rows)} held-out marked replies",
    )
    rewards = [tuned - base for tuned, base in zip(scored["tuned"], scored["base"])]
    marks = [row["label"] for row in rows]
    by_mark = {
        kind: [reward for reward, mark in zip(rewards, marks) if mark == wanted]
        for kind, wanted in (("good", True), ("bad", False))
    }
    results = {
        "replies": len(rows),
        "accuracy": sum((reward > 0) == mark for reward, mark in zip(rewards, marks)) / len(rows),
        **{f"mean_reward_{kind}": statistics.fmean(values) if values else None for kind, values in by_mark.items()},
        **{f"{kind}_replies": len(values) for kind, values in by_mark.items()},
    }
    write_json_atomic(out_dir / "preference_rewards.json", {"rewards": rewards, "marks": marks, **results})
    return results, marked_markdown(results)


def reply_logprob_switched(model, tokenizer, row: dict, use_adapter: bool) -> float:
    with adapter_switch(model, use_adapter):
        return reply_logprob(model, tokenizer, row["prompt"], row["completion"])


def marked_markdown(results: dict) -> str:
    def shown(value):
        return "-" if value is None else f"{value:+.3f}"

    return (
        f"## Marked replies ({results['replies']} held-out: {results['good_replies']} good, "
        f"{results['bad_replies']} bad)\n\n"
        "Implicit reward = log p_tuned(reply) - log p_base(reply), in nats.\n\n"
        "| sign agrees with the mark | mean reward, good replies | mean reward, bad replies |\n|---|---|---|\n"
        f"| {results['accuracy']:.1%} | {shown(results['mean_reward_good'])} | {shown(results['mean_reward_bad'])} |\n"
    )
