"""The persona metric of any artifact (`tuneforge eval RUN --artifact ...`): the share of greedy replies
to the unseen prompts that carry the persona (name and manner markers), in each condition of
`tuneforge eval` (with and without the system prompt); the first condition's share is compared."""

from __future__ import annotations

from tuneforge.eval.kit import task_metric
from tuneforge.tasks.persona.evaluate import probe_conditions, probe_prompts, reply_marks, score_replies


def persona_metric(run, answerer) -> dict:
    config = run.recipe.eval.persona
    prompts = probe_prompts(run)
    conditions = {}
    for condition, system in probe_conditions(config, run.recipe).items():
        head = [{"role": "system", "content": system}] if system else []
        asked = [[*head, {"role": "user", "content": prompt}] for prompt in prompts]
        replies = answerer.replies(asked, config.max_new_tokens)
        conditions[condition] = score_replies(replies, config)
        conditions[condition]["samples"] = [  # each reply, for `tuneforge compare`
            {"prompt": prompt, "reply": reply, "marks": reply_marks(reply, config)}
            for prompt, reply in zip(prompts, replies)
        ]
    first = next(iter(conditions))
    return task_metric(
        "persona_share",
        conditions[first]["persona_share"],
        higher_is_better=True,
        method=f"greedy chat replies ({first.replace('_', ' ')})",
        samples=len(prompts),
        conditions=conditions,
    )
