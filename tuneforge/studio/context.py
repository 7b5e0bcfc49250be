"""What every page and endpoint of one studio shares: its folders, its token, its jobs and chat servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from tuneforge.errors import UserError
from tuneforge.recipe.loading import recipes_dir, shipped_recipes
from tuneforge.studio.jobs import Jobs
from tuneforge.studio.security import inside


@dataclass
class Studio:
    runs_dir: Path
    user_recipes: Path  # where "save as" writes recipe files (the shipped ones are read-only)
    token: str
    jobs: Jobs = field(init=False)
    servers: dict = field(default_factory=dict)  # chat servers this studio started, by id (studio/chat.py)

    def __post_init__(self):
        self.runs_dir = self.runs_dir.resolve()
        self.user_recipes = self.user_recipes.resolve()
        self.jobs = Jobs(self.runs_dir)

    @property
    def recipe_folders(self) -> list[Path]:
        """Where recipes are read from: the shipped ones, then the user's folder (when it is another)."""
        shipped = recipes_dir().resolve()
        return [shipped] + ([self.user_recipes] if self.user_recipes != shipped else [])

    def recipes(self) -> dict[str, Path]:
        """Every recipe the studio offers, by name: the user's files (*.yaml in user_recipes), then the
        shipped ones (a shipped name wins: the CLI resolves a bare name to the shipped recipe too)."""
        found = {}
        if self.user_recipes.is_dir():
            found = {path.stem: path for path in sorted(self.user_recipes.glob("*.yaml"))}
        return found | shipped_recipes()

    def recipe_path(self, name: str) -> Path:
        """The file of the recipe called `name` (a shipped one, or NAME.yaml in the user's folder)."""
        shipped = shipped_recipes()
        if name in shipped:
            return shipped[name]
        path = inside(self.user_recipes, f"{name}.yaml")
        if not path.is_file():
            raise UserError(f"no recipe called {name!r}", fix="pick one from the Recipes page")
        return path

    def is_shipped(self, path: Path) -> bool:
        return path.resolve().parent == recipes_dir().resolve()


def studio_of(request: Request) -> Studio:
    return request.app.state.studio
