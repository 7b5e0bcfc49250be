"""Label prediction with real confidences for runs of `format: classification` recipes.

    from tuneforge.tasks.classification.predict import Predictor
    predictor = Predictor("runs/sentiment/<run-id>")
    predictor.predict("房间很干净，服务也热情。")   # {"label": "positive", "confidence": 0.97, "probabilities": {...}}
    predictor.predict_batch(texts)

Each label is scored by the log-probability of its whole token sequence after the training
prompt (labels may share first tokens); a softmax over the labels gives the probabilities.
`use_adapter=False` scores with the base model alone: the zero-shot baseline.
"""

from __future__ import annotations

from pathlib import Path

from tuneforge.errors import UserError


class Predictor:
    def __init__(self, run_dir: str | Path, *, use_adapter: bool = True, batch_size: int = 16):
        import torch

        from tuneforge.models import load_with_adapter
        from tuneforge.runs import RunFolder

        self.run = RunFolder(run_dir)
        self.run_dir, self.recipe, manifest = self.run.path, self.run.recipe, self.run.manifest
        if self.recipe.data.format != "classification":
            raise UserError(
                f"{self.run_dir}: not a run of a classification recipe (recipe {self.recipe.name!r})",
                fix="use a run of a recipe with data.format: classification",
            )
        self.labels = self.recipe.data.classification.labels
        self.model, self.tokenizer = load_with_adapter(
            self.run_dir, manifest, torch.float32, self.recipe.model.trust_remote_code
        )
        self.model.eval()
        self.use_adapter, self.batch_size = use_adapter, batch_size
        self.label_ids = [self.tokenizer(label, add_special_tokens=False)["input_ids"] for label in self.labels]

    def prompt_ids(self, text: str) -> list[int]:
        from tuneforge.tasks.classification.data import prompt_messages

        rendered = self.tokenizer.apply_chat_template(
            prompt_messages(self.recipe.data, text), tokenize=False, add_generation_prompt=True
        )
        return self.tokenizer(rendered, add_special_tokens=False)["input_ids"]

    def predict(self, text: str) -> dict:
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: list[str], use_adapter: bool | None = None) -> list[dict]:
        """Predictions in order; `use_adapter` (default: the predictor's setting) False scores with the base model."""
        adapter = self.use_adapter if use_adapter is None else use_adapter
        results = []
        for start in range(0, len(texts), self.batch_size):
            results += self._score([self.prompt_ids(text) for text in texts[start : start + self.batch_size]], adapter)
        return results

    def _score(self, prompts: list[list[int]], use_adapter: bool) -> list[dict]:
        """One forward pass over every (prompt, label) pair; label log-probs → probabilities."""
        import contextlib

        import torch

        pairs = [(prompt, label) for prompt in prompts for label in self.label_ids]
        width = max(len(p) + len(label) for p, label in pairs)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([p + label + [pad] * (width - len(p) - len(label)) for p, label in pairs])
        mask = torch.tensor([[1] * (len(p) + len(label)) + [0] * (width - len(p) - len(label)) for p, label in pairs])
        adapter_off = contextlib.nullcontext() if use_adapter else self.model.disable_adapter()
        with torch.inference_mode(), adapter_off:
            log_probs = torch.log_softmax(self.model(input_ids=input_ids, attention_mask=mask).logits.float(), dim=-1)
        scores = torch.tensor(
            [
                sum(log_probs[row, len(p) + i - 1, token].item() for i, token in enumerate(label))
                for row, (p, label) in enumerate(pairs)
            ]
        ).view(len(prompts), len(self.labels))
        probabilities = torch.softmax(scores, dim=-1)
        return [self._result(row.tolist()) for row in probabilities]

    def _result(self, probabilities: list[float]) -> dict:
        best = max(range(len(self.labels)), key=probabilities.__getitem__)
        return {
            "label": self.labels[best],
            "confidence": round(probabilities[best], 6),
            "probabilities": {label: round(p, 6) for label, p in zip(self.labels, probabilities)},
        }


def describe(result: dict) -> str:
    return f"{result['label']} ({result['confidence']:.1%})"


def demo_items(run, count: int = 6) -> list[tuple[str, str]]:
    """(text, label) from the run's held-out test split, the same items the evaluation uses."""
    from tuneforge.tasks.classification.data import test_items

    return test_items(run, count)


def read_texts(path: Path, text_key: str = "text") -> list[tuple[str, str]]:
    """(id, text) for every line of a JSONL file; every bad line reported as file:line, together."""
    import json

    from tuneforge.errors import ProblemCollector

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


def predict_file(run_dir: Path, input_path: Path, output: Path, batch_size: int = 16) -> dict:
    """Labels for every text in `input_path` not yet in `output`, appended batch by batch (resumable)."""
    from tqdm.auto import tqdm

    from tuneforge.serve.predict import AnswerLog, answered_ids

    items = read_texts(input_path)
    done = answered_ids(output)
    todo = [(ident, text) for ident, text in items if ident not in done]
    predictor = Predictor(run_dir, batch_size=batch_size)
    answers = AnswerLog(output)
    try:
        for start in tqdm(range(0, len(todo), batch_size), unit="batch"):
            batch = todo[start : start + batch_size]
            for (ident, _), result in zip(batch, predictor.predict_batch([text for _, text in batch])):
                answers.write({"id": ident, **result})
    finally:
        answers.close()
    return {"requests": len(items), "skipped": len(items) - len(todo), "answered": len(todo)}
