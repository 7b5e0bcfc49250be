"""`tuneforge translate`: translate with a translation run's tuned model (base + adapter, in-process)."""

from __future__ import annotations

from pathlib import Path

import click

from tuneforge.cli_options import prompted_lines, runs_dir_option
from tuneforge.targets import resolve_run
from tuneforge.tasks.translation.translate import Translator, language_pair


@click.command()
@click.argument("target")
@click.argument("texts", nargs=-1)
@click.option("--src", "source_lang", required=True, help="Source language: en, ja, zh, zh_tw or zh_hant.")
@click.option("--tgt", "target_lang", required=True, help="Target language: en, ja, zh, zh_tw or zh_hant.")
@click.option("--max-new-tokens", type=click.IntRange(1), default=256, show_default=True)
@click.option("--base", "base_only", is_flag=True, help="Translate with the base model alone (no adapter).")
@runs_dir_option
def translate(
    target: str,
    texts: tuple[str, ...],
    source_lang: str,
    target_lang: str,
    max_new_tokens: int,
    base_only: bool,
    runs_dir: Path,
) -> None:
    """Translate TEXTS from --src to --tgt with TARGET (a run folder, or a recipe name for its newest
    complete run). Without TEXTS: an interactive prompt, one text per line (`exit` or `quit` leaves)."""
    language_pair(source_lang, target_lang, ("--src", "--tgt"))  # a wrong code fails before the model loads
    translator = Translator(resolve_run(target, runs_dir), max_new_tokens=max_new_tokens)
    for text in texts or prompted_lines(source_lang):
        click.echo(translator.translate(source_lang, target_lang, text, use_adapter=not base_only))
