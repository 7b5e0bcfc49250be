"""The docs stay true: the recipe reference matches the schema, and every relative link has a target."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target "title"): the target up to a space, a closing parenthesis or a #anchor.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s#]*)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def load_generator():
    spec = importlib.util.spec_from_file_location("recipe_reference", ROOT / "scripts" / "recipe_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recipe_reference_is_current():
    generator = load_generator()
    stale = "docs/recipes.md is stale: run python scripts/recipe_reference.py"
    assert generator.REFERENCE.read_text(encoding="utf-8") == generator.reference_markdown(), stale


def test_the_recipe_reference_covers_every_format_task_and_method():
    from tuneforge.recipe.assemble import data_formats
    from tuneforge.registry import registered_methods, registered_tasks

    text = load_generator().reference_markdown()
    for fmt in data_formats():
        assert re.search(rf"^### data: format .*\b{re.escape(fmt)}\b", text, re.MULTILINE), fmt
    for task in registered_tasks():
        if task.eval_section() is not None:
            assert f"### eval.{task.name}\n" in text, task.name
    for method in registered_methods():
        if method.settings is not None:
            assert f"### train.{method.name}\n" in text, method.name


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))  # code blocks hold no links
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in LINK.findall(text) if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page):
    missing = [target for target in relative_links(page) if not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"
    if page.parent.name == "docs":  # the site is built from docs/ alone (mkdocs strict mode refuses the rest)
        outside = [t for t in relative_links(page) if not (page.parent / t).resolve().is_relative_to(page.parent)]
        assert not outside, f"{page.relative_to(ROOT)} links outside docs/: {outside}"


def test_the_docs_site_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(path.name for path in (ROOT / "docs").glob("*.md"))
    assert pages, "docs/ has no pages"
    assert [name for name in pages if name not in nav] == []
