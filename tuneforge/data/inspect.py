"""`tuneforge data inspect`: the data report of a recipe, without loading model weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneforge.data.prepare import prepare_datasets
from tuneforge.models import resolve_model

if TYPE_CHECKING:
    from tuneforge.recipe.schema import Recipe


def inspect_data(recipe: Recipe) -> dict:
    from transformers import AutoTokenizer

    base = resolve_model(recipe.model.base)
    tokenizer = AutoTokenizer.from_pretrained(str(base.path), trust_remote_code=recipe.model.trust_remote_code)
    _, report = prepare_datasets(recipe.data, tokenizer, recipe.model.max_seq_length)
    return report.to_json()
