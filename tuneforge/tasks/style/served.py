"""The writing-style metric of any artifact (`tuneforge eval RUN --artifact ...`).

- perplexity proxy: exp(mean negative log-likelihood) of the held-out articles' assistant turns
  (the validation split) given their prompts, teacher-forced. In process it is the model's own
  forward pass; served, it needs prompt logprobs (completions with echo), which vLLM gives and
  llama.cpp's servers do not: there it is None and the style distance is the compared metric.
- style distance: how far greedy continuations of the validation prompts (the evaluation's
  decoding, repetition penalty included) are from the author's corpus (0 = the same), as
  `tuneforge eval` measures it. Lower is better for both.
"""

from __future__ import annotations

import math

from tuneforge.eval.kit import held_out, task_metric
from tuneforge.tasks.style.evaluate import (
    author_corpus,
    continuation_distances,
    decoding,
    prompt_tail,
    validation_continuations,
)
from tuneforge.tasks.style.indicators import style_distance, style_indicators


def style_metric(run, answerer) -> dict:
    config = run.recipe.eval.style
    author = style_indicators(author_corpus(run), config.ttr_window)
    scored = answerer.reply_logprobs([sample.messages for sample in held_out(run, "eval.style", split="val")])
    perplexity = None
    if scored:
        total, tokens = sum(s for s, _ in scored), sum(n for _, n in scored)
        perplexity = math.exp(-total / tokens) if tokens else None
    samples = validation_continuations(run, config.max_samples)
    greedy = {key: value for key, value in decoding(config).items() if key == "repetition_penalty"}
    texts = answerer.replies(
        [s.messages[:-1] for s in samples], config.max_new_tokens, batch_size=config.batch_size, **greedy
    )
    distance = style_distance(style_indicators(texts, config.ttr_window), author, config.top_words)
    metric, value = ("perplexity", perplexity) if perplexity is not None else ("style_distance", distance["overall"])
    return task_metric(
        metric,
        value,
        higher_is_better=False,
        method="teacher-forced logprobs" if perplexity is not None else "greedy continuations (no prompt logprobs)",
        perplexity=perplexity,
        style_distance=distance["overall"],
        distance=distance,
        samples=len(samples),
        continuations=texts,
        # What each continuation continues, in the same order, and its own distance: for `tuneforge compare`.
        items=[
            {"prompt": prompt_tail(sample), "reference": sample.messages[-1]["content"], "distance": own}
            for sample, own in zip(samples, continuation_distances(texts, author, config))
        ],
    )
