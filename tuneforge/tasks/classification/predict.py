"""Label prediction with real confidences for runs of `format: classification` recipes.

    from tuneforge.tasks.classification.predict import Predictor
    predictor = Predictor("runs/sentiment/<run-id>")
    predictor.predict("房间很干净，服务也热情。")   # {"label": "positive", "confidence": 0.97, "probabilities": {...}}
    predictor.predict_batch(texts)

Each label is scored by the log-probability of its whole token sequence after the training
prompt (labels may share first tokens); a softmax over the labels gives the probabilities.
`use_adapter=False` scores with the base model alone: the zero-shot baseline.

How it is computed: the tokens every prompt starts with (system prompt and instruction) go through
the model once per call, and each batch continues from a copy of their KV cache. Texts are sorted by
length into batches (little padding) and each batch's prompt tails go through the model once,
left-padded, keeping the logits of the last position only; they give every label's first token.
Labels of more than one token continue from the prompts' KV cache: one more pass over the label
tails only, batched over prompts x labels. The result equals scoring each (prompt, label) sequence
on its own (tests/unit/test_classification.py checks it).
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneforge.errors import ProblemCollector, UserError
from tuneforge.eval.generate import (
    MIN_SHARED_PREFIX,
    SharedPrefix,
    adapter_switch,
    common_prefix_length,
    left_padded,
    longest_first_batches,
    repeated_cache,
)
from tuneforge.models import load_with_adapter
from tuneforge.run_folder import RunFolder
from tuneforge.serve.predict import AnswerLog, answered_ids
from tuneforge.tasks.classification.data import prompt_messages, scored_text, test_items


class Predictor:
    def __init__(self, run_dir: str | Path, *, use_adapter: bool = True, batch_size: int = 16):
        import torch

        run = RunFolder(run_dir)
        if run.recipe.data.format != "classification":
            raise UserError(
                f"{run.path}: not a run of a classification recipe (recipe {run.recipe.name!r})",
                fix="use a run of a recipe with data.format: classification",
            )
        model, tokenizer = load_with_adapter(run.path, run.manifest, torch.float32, run.recipe.model.trust_remote_code)
        self._attach(run.recipe, model, tokenizer, use_adapter, batch_size)
        self.run, self.run_dir = run, run.path

    @classmethod
    def from_model(cls, recipe, model, tokenizer, *, use_adapter: bool = True, batch_size: int = 16) -> Predictor:
        """A predictor over a model already in memory (a PEFT model where use_adapter may be False), with a
        classification recipe's prompt and labels: for tests and benchmarks that have no run folder."""
        predictor = cls.__new__(cls)
        predictor._attach(recipe, model, tokenizer, use_adapter, batch_size)
        predictor.run = predictor.run_dir = None
        return predictor

    def _attach(self, recipe, model, tokenizer, use_adapter: bool, batch_size: int) -> None:
        self.recipe, self.model, self.tokenizer = recipe, model, tokenizer
        self.model.eval()
        self.labels = recipe.data.classification.labels
        self.use_adapter, self.batch_size = use_adapter, batch_size
        self.label_ids = [tokenizer(label, add_special_tokens=False)["input_ids"] for label in self.labels]

    def prompt_ids(self, text: str) -> list[int]:
        """The training prompt of the text, cut as training cut it (data.filter.overlength: truncate_input)."""
        data = self.recipe.data
        text = scored_text(data, self.tokenizer, text, self.recipe.model.max_seq_length)
        rendered = self.tokenizer.apply_chat_template(
            prompt_messages(data, text), tokenize=False, add_generation_prompt=True
        )
        return self.tokenizer(rendered, add_special_tokens=False)["input_ids"]

    def predict(self, text: str) -> dict:
        return self.predict_batch([text])[0]

    def predict_batch(
        self, texts: list[str], use_adapter: bool | None = None, progress: str | None = None
    ) -> list[dict]:
        """Predictions in the order of `texts`; `use_adapter` (default: the predictor's setting) False scores
        with the base model. `progress` names a progress bar over the batches (shown on a terminal)."""
        from tqdm.auto import tqdm

        adapter = self.use_adapter if use_adapter is None else use_adapter
        prompts = [self.prompt_ids(text) for text in texts]
        shared = self.shared_prefix(prompts, adapter)
        batches = longest_first_batches(list(map(len, prompts)), self.batch_size)
        results: list[dict] = [{}] * len(texts)
        for batch in tqdm(batches, desc=progress, unit="batch", disable=None if progress else True):
            for index, result in zip(batch, self._score([prompts[index] for index in batch], adapter, shared)):
                results[index] = result
        return results

    def _score(self, prompts: list[list[int]], use_adapter: bool, shared: SharedPrefix | None) -> list[dict]:
        import torch

        probabilities = torch.softmax(self.label_log_probs(prompts, use_adapter, shared), dim=-1)
        return [label_result(self.labels, row.tolist()) for row in probabilities]

    def shared_prefix(self, prompts: list[list[int]], use_adapter: bool) -> SharedPrefix | None:
        """The tokens all `prompts` start with and their KV cache, or None when they share fewer than
        MIN_SHARED_PREFIX tokens (too few to be worth a cache copy per batch)."""
        import torch

        length = common_prefix_length(prompts)
        if length < MIN_SHARED_PREFIX:
            return None
        with torch.inference_mode(), self._adapter(use_adapter):
            output = self.model(input_ids=torch.tensor([prompts[0][:length]]), use_cache=True, logits_to_keep=1)
        return SharedPrefix(length, output.past_key_values)

    def label_log_probs(self, prompts: list[list[int]], use_adapter: bool, shared: SharedPrefix | None = None):
        """[prompts, labels]: log p(label's tokens | prompt), computed as the module docstring says. With
        `shared` (from `shared_prefix` of these prompts or more), only the tokens after it are run."""
        import torch

        tails = any(len(label) > 1 for label in self.label_ids)
        skip = shared.length if shared else 0
        input_ids, mask, positions = left_padded([prompt[skip:] for prompt in prompts], self.tokenizer.pad_token_id)
        if shared:  # the padding sits between the prefix and each tail, masked; positions continue the prefix's
            mask = torch.cat([torch.ones(len(prompts), skip, dtype=mask.dtype), mask], dim=1)
            positions = positions + skip
        with torch.inference_mode(), self._adapter(use_adapter):
            output = self.model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=shared.cache_for(len(prompts)) if shared else None,
                use_cache=tails or shared is not None,
                logits_to_keep=1,
            )
            first = torch.log_softmax(output.logits[:, -1].float(), dim=-1)
            scores = first[:, [label[0] for label in self.label_ids]]
            if tails:
                scores = scores + self._tail_scores(output.past_key_values, mask, positions[:, -1])
        return scores

    def _adapter(self, use_adapter: bool):
        return adapter_switch(self.model, use_adapter)

    def _tail_scores(self, cache, prompt_mask, last_positions):
        """log p(label[1:] | prompt, label[0]) per prompt x label: the label tokens after the first, from
        the prompts' KV cache (row prompt * labels + label), padded on the right to the longest label."""
        import torch

        count, width = len(self.label_ids), max(map(len, self.label_ids)) - 1
        pad = self.tokenizer.pad_token_id
        fed = torch.tensor([label[:-1] + [pad] * (width + 1 - len(label)) for label in self.label_ids])
        targets = torch.tensor([label[1:] + [0] * (width + 1 - len(label)) for label in self.label_ids])
        real = torch.tensor([[1] * (len(label) - 1) + [0] * (width + 1 - len(label)) for label in self.label_ids])
        rows = prompt_mask.shape[0]
        output = self.model(
            input_ids=fed.repeat(rows, 1),
            attention_mask=torch.cat([prompt_mask.repeat_interleave(count, dim=0), real.repeat(rows, 1)], dim=1),
            position_ids=last_positions.repeat_interleave(count)[:, None] + 1 + torch.arange(width),
            past_key_values=repeated_cache(cache, count),
        )
        log_probs = torch.log_softmax(output.logits.float(), dim=-1)
        picked = log_probs.gather(-1, targets.repeat(rows, 1)[..., None]).squeeze(-1)
        return torch.where(real.repeat(rows, 1).bool(), picked, 0.0).sum(dim=-1).view(rows, count)


def label_result(labels: list[str], probabilities: list[float]) -> dict:
    """{"label", "confidence", "probabilities"} of one text, from its probability per label."""
    best = max(range(len(labels)), key=probabilities.__getitem__)
    return {
        "label": labels[best],
        "confidence": round(probabilities[best], 6),
        "probabilities": {label: round(p, 6) for label, p in zip(labels, probabilities)},
    }


def describe(result: dict) -> str:
    return f"{result['label']} ({result['confidence']:.1%})"


def demo_items(run, count: int = 6) -> list[tuple[str, str]]:
    """(text, label) from the run's held-out test split, the same items the evaluation uses."""
    return test_items(run, count)


def read_texts(path: Path, text_key: str = "text") -> list[tuple[str, str]]:
    """(id, text) for every line of a JSONL file; every bad line reported as file:line, together."""
    if not path.is_file():
        raise UserError(f"input file {path}: no such file")
    problems, items, seen = ProblemCollector(f"cannot read {path}"), [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.add(f"{path}:{number}: invalid JSON ({error.msg})")
            continue
        text, ident = (record.get(text_key), str(record.get("id", number))) if isinstance(record, dict) else (None, "")
        if not isinstance(text, str) or not text.strip():
            problems.add(f"{path}:{number}: needs {text_key!r} (a non-empty string)")
        elif ident in seen:
            problems.add(f"{path}:{number}: duplicate id {ident!r}")
        else:
            seen.add(ident)
            items.append((ident, text))
    problems.raise_if_any(fix=f'each line needs {{"id": ..., "{text_key}": "..."}}')
    return items


BATCHES_PER_WRITE = 8  # texts sorted by length within this many batches; each group appended as it is done


def predict_file(run_dir: Path, input_path: Path, output: Path, batch_size: int = 16) -> dict:
    """Labels for every text in `input_path` not yet in `output`, appended group by group (resumable)."""
    from tqdm.auto import tqdm

    items = read_texts(input_path)
    done = answered_ids(output)
    todo = [(ident, text) for ident, text in items if ident not in done]
    predictor = Predictor(run_dir, batch_size=batch_size)
    answers, group = AnswerLog(output), batch_size * BATCHES_PER_WRITE
    try:
        with tqdm(total=len(todo), unit="text") as bar:
            for start in range(0, len(todo), group):
                chunk = todo[start : start + group]
                for (ident, _), result in zip(chunk, predictor.predict_batch([text for _, text in chunk])):
                    answers.write({"id": ident, **result})
                bar.update(len(chunk))
    finally:
        answers.close()
    return {"requests": len(items), "skipped": len(items) - len(todo), "answered": len(todo)}
