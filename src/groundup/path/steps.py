"""The learning path as data: load `steps.toml`, look steps up, order them."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from groundup.i18n import LANGS, Msg

STATUSES = ("built", "planned")
TYPES = ("concept", "build", "project")
RESOURCE_KINDS = ("video", "paper", "article", "book", "course", "code")
LESSONS_DIR = Path(str(resources.files("groundup.path"))) / "lessons"


@dataclass(frozen=True)
class Resource:
    title: str
    kind: str
    url: str


@dataclass(frozen=True)
class Section:
    id: str
    title: Msg


@dataclass(frozen=True)
class Step:
    id: str
    section: str
    type: str
    status: str
    title: Msg
    summary: Msg
    prerequisites: tuple[str, ...]
    resources: tuple[Resource, ...]
    module: str | None  # the library module that implements the step
    lab: str | None  # dotted name of the lab module
    exercise: str | None  # name of the package under groundup.exercises

    @property
    def built(self) -> bool:
        return self.status == "built"

    def lesson_path(self, lang: str) -> Path:
        return LESSONS_DIR / lang / f"{self.id}.md"


@dataclass(frozen=True)
class LearningPath:
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]

    def get(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def suggestions(self, wrong: str, n: int = 3) -> list[str]:
        ids = self.ids()
        close = difflib.get_close_matches(wrong, ids, n=n, cutoff=0.5)
        close += [i for i in ids if wrong and wrong in i and i not in close]
        return close[:n]

    def in_section(self, section_id: str) -> list[Step]:
        return [s for s in self.steps if s.section == section_id]


def _msg(table: dict, key: str, where: str) -> Msg:
    value = table.get(key)
    if not isinstance(value, dict) or any(not value.get(lang) for lang in LANGS):
        raise ValueError(f"{where}: '{key}' needs text for both 'en' and 'de'")
    return Msg(en=value["en"], de=value["de"])


def parse(text: str) -> LearningPath:
    data = tomllib.loads(text)
    sections = tuple(
        Section(s["id"], _msg(s, "title", f"section {s.get('id')}")) for s in data["sections"]
    )
    steps = []
    for raw in data["steps"]:
        where = f"step {raw.get('id')}"
        steps.append(
            Step(
                id=raw["id"],
                section=raw["section"],
                type=raw["type"],
                status=raw["status"],
                title=_msg(raw, "title", where),
                summary=_msg(raw, "summary", where),
                prerequisites=tuple(raw.get("prerequisites", [])),
                resources=tuple(Resource(**r) for r in raw.get("resources", [])),
                module=raw.get("module"),
                lab=raw.get("lab"),
                exercise=raw.get("exercise"),
            )
        )
    return LearningPath(sections=sections, steps=tuple(steps))


@cache
def load() -> LearningPath:
    text = resources.files("groundup.path").joinpath("steps.toml").read_text(encoding="utf-8")
    return parse(text)


def topological_order(path: LearningPath) -> list[Step]:
    """Steps ordered so that every step comes after its prerequisites (file order breaks ties)."""
    done: set[str] = set()
    order: list[Step] = []
    pending = list(path.steps)
    while pending:
        ready = [s for s in pending if all(p in done for p in s.prerequisites)]
        if not ready:
            raise ValueError(f"prerequisites have a cycle among {[s.id for s in pending]}")
        step = ready[0]
        order.append(step)
        done.add(step.id)
        pending.remove(step)
    return order
