"""The translation metric of any artifact (`tuneforge eval RUN --artifact ...`): corpus BLEU and chrF
per direction on the test split (the same pairs, prompt, greedy decoding and max_new_tokens as
`tuneforge eval`), and their mean over directions; BLEU is the metric compared."""

from __future__ import annotations

import statistics

from tuneforge.eval.kit import task_metric
from tuneforge.tasks.translation.data import translation_messages
from tuneforge.tasks.translation.evaluate import corpus_metrics, held_out_pairs


def translation_metric(run, answerer) -> dict:
    config, system = run.recipe.eval.translation, run.recipe.data.system_prompt
    by_direction = held_out_pairs(run, config.max_samples)
    pairs = [pair for group in by_direction.values() for pair in group]
    # One line per sample in training, as Translator sends it.
    conversations = [
        translation_messages(system, p.source_lang, p.target_lang, " ".join(p.source.split())) for p in pairs
    ]
    hypotheses = iter(answerer.replies(conversations, config.max_new_tokens, batch_size=config.batch_size))
    directions, texts = {}, []
    for direction, group in by_direction.items():
        found = [next(hypotheses).strip() for _ in group]
        texts += found
        scores = corpus_metrics(found, [pair.reference for pair in group], group[0].target_lang)
        directions[direction] = {key: scores[key] for key in ("bleu", "chrf", "samples", "tokenize")}
    return task_metric(
        "bleu",
        statistics.mean(d["bleu"] for d in directions.values()),
        higher_is_better=True,
        method="greedy chat replies",
        chrf=statistics.mean(d["chrf"] for d in directions.values()),
        samples=len(pairs),
        directions=directions,
        hypotheses=texts,
        # What each hypothesis translates, in the same order: `tuneforge compare` pairs two runs by it.
        items=[{"direction": p.direction, "source": p.source, "reference": p.reference} for p in pairs],
    )
