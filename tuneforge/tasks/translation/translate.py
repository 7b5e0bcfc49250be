"""Translation with a run of a `format: parallel` recipe: the base model plus the run's adapter, in-process.

    from tuneforge.tasks.translation.translate import Translator
    translator = Translator("runs/translation/<run-id>")
    translator.translate("zh_tw", "en", "我喜歡蘋果。")          # "I like apples."
    translator.translate_batch([("en", "ja", "It is cold today."), ...])

The prompt is the one training used (system prompt, `<src> <tgt>\\n{text}`); decoding is greedy.
Language codes are those of the corpus files: en, ja, zh, zh_tw, zh_hant (the last three: zh_TW).
`use_adapter=False` translates with the base model alone (the evaluation's baseline).
"""

from __future__ import annotations

from pathlib import Path

from tuneforge.errors import UserError
from tuneforge.eval.generate import AdapterGenerator
from tuneforge.run_folder import load_run
from tuneforge.serve.client import strip_think
from tuneforge.tasks.translation.data import LANGUAGE_CODES, language_tag, translation_messages


def language_pair(
    source_lang: str, target_lang: str, names: tuple[str, str] = ("source language", "target language")
) -> tuple[str, str]:
    """Both codes as tags; a UserError naming the valid codes for an unknown one. `names` are what
    the caller calls the two (the CLI: its --src and --tgt)."""
    tags = []
    for name, code in zip(names, (source_lang, target_lang)):
        try:
            tags.append(language_tag(code))
        except ValueError:
            raise UserError(
                f"{name} {code!r}: unknown language code", fix=f"use one of: {', '.join(LANGUAGE_CODES)}"
            ) from None
    if tags[0] == tags[1]:
        raise UserError(
            f"{names[0]} {source_lang} and {names[1]} {target_lang} are the same language ({tags[0]})",
            fix="pick two different languages",
        )
    return tags[0], tags[1]


class Translator:
    def __init__(self, run_dir: str | Path, *, recipe=None, manifest: dict | None = None, max_new_tokens: int = 256):
        self.run_dir = Path(run_dir)
        if recipe is None or manifest is None:
            recipe, manifest = load_run(self.run_dir)
        if recipe.data.format != "parallel":  # the prompt is the parallel format's
            raise UserError(
                f"{self.run_dir}: recipe {recipe.name!r} is not a translation recipe "
                f"(data.format is {recipe.data.format})",
                fix="use a run of e.g. the translation recipe",
            )
        self.recipe, self.max_new_tokens = recipe, max_new_tokens
        self.generator = AdapterGenerator(self.run_dir, manifest, recipe.model.trust_remote_code)

    def translate(self, source_lang: str, target_lang: str, text: str, *, use_adapter: bool = True) -> str:
        return self.translate_batch([(source_lang, target_lang, text)], use_adapter=use_adapter)[0]

    def translate_batch(
        self, requests: list[tuple[str, str, str]], *, use_adapter: bool = True, batch_size: int = 16
    ) -> list[str]:
        """Translations of (source language, target language, text) requests, in order."""
        conversations = []
        for source_lang, target_lang, text in requests:
            source, target = language_pair(source_lang, target_lang)
            # One line per sample in training: a pasted multi-line text is translated as one line.
            line = " ".join(text.split())
            conversations.append(translation_messages(self.recipe.data.system_prompt, source, target, line))
        replies = self.generator.generate(
            conversations, self.max_new_tokens, use_adapter=use_adapter, batch_size=batch_size
        )
        return [strip_think(reply).strip() for reply in replies]  # Qwen3 writes an (empty) <think> block first
