"""The domain metric of any artifact (`tuneforge eval RUN --artifact ...`): mean ROUGE-L F1 and corpus
BLEU of greedy answers to the test questions against the references (as `tuneforge eval`, without
the LLM judge); ROUGE-L is compared."""

from __future__ import annotations

from tuneforge.eval.kit import task_metric
from tuneforge.eval.metrics import bleu_tokenizer
from tuneforge.tasks.domain.evaluate import reference_metrics, test_items


def domain_metric(run, answerer) -> dict:
    config = run.recipe.eval.domain
    items = test_items(run, config.max_samples)
    references = [item.reference for item in items]
    answers = answerer.replies([item.prompt for item in items], config.max_new_tokens, batch_size=config.batch_size)
    metrics = reference_metrics(answers, references, bleu_tokenizer(config.bleu_tokenize, references))
    return task_metric(
        "rouge_l",
        metrics["rouge_l"],
        higher_is_better=True,
        method="greedy chat replies",
        bleu=metrics["bleu"]["score"],
        samples=len(items),
        answers=answers,
        # What each answer answers, in the same order: `tuneforge compare` pairs two runs by it.
        items=[{"question": item.question, "reference": item.reference} for item in items],
    )
