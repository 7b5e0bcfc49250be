"""Persona adoption: on prompts never seen in training, how many replies carry the persona?

A reply "carries the name" when it contains any name marker, "carries the manner" when it
contains any style marker, and carries the persona when it has both (case-insensitive).
Base and tuned model answer the same prompts with the same system prompt, greedily.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.eval.generate import AdapterGenerator
from tuneforge.eval.kit import VARIANTS, for_each_variant
from tuneforge.plots import pyplot, reporting_plot, save_figure

PROMPTS_INPUT = "persona-prompts.jsonl"  # the run's copy of eval.persona.prompts (RUN/inputs/)


def probe_prompts(run) -> list[str]:
    """The unseen prompts, from the run's copy of eval.persona.prompts (tuneforge.run_folder.RunFolder.input)."""
    return read_prompts(run.input(PROMPTS_INPUT, run.recipe.eval.persona.prompts))


def read_prompts(path: Path) -> list[str]:
    prompts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            prompts.append(json.loads(line)["prompt"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UserError(f'{path}:{number}: expected a JSON object with a "prompt" field') from None
    if not prompts:
        raise UserError(f"{path}: no prompts")
    return prompts


def contains_any(text: str, markers: list[str]) -> bool:
    lowered = text.lower()
    return any(marker.lower() in lowered for marker in markers)


def reply_marks(reply: str, config) -> dict[str, bool]:
    """Whether one reply carries the persona's name, its manner, and both (the persona)."""
    name = contains_any(reply, config.name_markers)
    manner = contains_any(reply, config.style_markers) if config.style_markers else True
    return {"name": name, "manner": manner, "persona": name and manner}


def score_replies(replies: list[str], config) -> dict:
    marks = [reply_marks(reply, config) for reply in replies]
    count = len(replies)
    return {
        "name_share": sum(m["name"] for m in marks) / count,
        "style_share": sum(m["manner"] for m in marks) / count,
        "persona_share": sum(m["persona"] for m in marks) / count,
        "replies": count,
    }


def probe_conditions(config, recipe) -> dict[str, str | None]:
    """With the persona's system prompt (how it is deployed) and without any (is it learned?)."""
    system = config.system_prompt or recipe.data.system_prompt
    return {"with_system_prompt": system, "without_system_prompt": None} if system else {"without_system_prompt": None}


def evaluate_persona(run, out_dir: Path) -> tuple[dict, str]:
    recipe = run.recipe
    config = recipe.eval.persona
    prompts = probe_prompts(run)
    generator = AdapterGenerator(run.path, run.manifest, recipe.model.trust_remote_code)
    result = {}
    for condition, system in probe_conditions(config, recipe).items():
        conversations = [
            ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
            for prompt in prompts
        ]
        replies = for_each_variant(
            lambda tuned, asked=conversations: generator.generate(asked, config.max_new_tokens, use_adapter=tuned),
            f"answering {len(prompts)} unseen prompts {condition.replace('_', ' ')}",
        )
        result[condition] = {variant: score_replies(texts, config) for variant, texts in replies.items()}
        result[condition]["samples"] = [
            {
                "prompt": p,
                "base": b,
                "tuned": t,
                "marks": {"base": reply_marks(b, config), "tuned": reply_marks(t, config)},
            }
            for p, b, t in zip(prompts, replies["base"], replies["tuned"])
        ]
    plot_shares(result, out_dir / "persona.png")
    return result, persona_markdown(result)


def headline_rows(result: dict) -> list[tuple[str, float, float]]:
    """The share of replies carrying the persona, base and tuned, in each condition."""
    return [
        (
            f"persona share, {condition.replace('_', ' ')}",
            scores["base"]["persona_share"],
            scores["tuned"]["persona_share"],
        )
        for condition, scores in result.items()
    ]


def persona_markdown(result: dict) -> str:
    rows = [
        f"| {condition.replace('_', ' ')} | {variant} | {scores[variant]['name_share']:.0%} | "
        f"{scores[variant]['style_share']:.0%} | {scores[variant]['persona_share']:.0%} |"
        for condition, scores in result.items()
        for variant in VARIANTS
    ]
    first = next(iter(result.values()))["samples"][:4]
    examples = [f"- **{s['prompt']}**\n  - base: {s['base'][:200]!r}\n  - tuned: {s['tuned'][:200]!r}" for s in first]
    return (
        "## Persona on unseen prompts\n\n| condition | model | name | manner | both |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n![persona](persona.png)\n\n### Examples\n\n"
        + "\n".join(examples)
    )


@reporting_plot
def plot_shares(result: dict, output: Path) -> None:
    plt = pyplot()
    keys = [("name_share", "name"), ("style_share", "manner"), ("persona_share", "both")]
    bars = [
        (f"{variant}\n{condition.split('_')[0]} system", result[condition][variant])
        for condition in result
        for variant in VARIANTS
    ]
    figure, axes = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / len(keys)
    for index, (key, label) in enumerate(keys):
        axes.bar(
            [i + (index - 1) * width for i in range(len(bars))], [s[key] * 100 for _, s in bars], width, label=label
        )
    axes.set_xticks(range(len(bars)), [name for name, _ in bars], fontsize=8)
    axes.set_ylabel("% of replies")
    axes.set_ylim(0, 105)
    axes.set_title("Persona markers in replies to unseen prompts")
    axes.legend()
    save_figure(figure, output)
