"""The path as data: a DAG rooted in math, and every built step complete."""

import importlib
import re
from importlib import resources

import pytest

from groundup.path import steps
from groundup.path.lessons import code_blocks, headings

PATH = steps.load()
BUILT = [s for s in PATH.steps if s.built]
SECTION_ORDER = ["math", "nn", "sequence", "transformer", "pretrained", "finetuning", "llmops"]


def test_sections_follow_the_journey() -> None:
    assert [s.id for s in PATH.sections] == SECTION_ORDER


def test_ids_are_unique_kebab_case_and_fields_valid() -> None:
    ids = PATH.ids()
    assert len(ids) == len(set(ids))
    sections = {s.id for s in PATH.sections}
    for step in PATH.steps:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", step.id), step.id
        assert step.section in sections, step.id
        assert step.status in steps.STATUSES, step.id
        assert step.type in steps.TYPES, step.id
        for r in step.resources:
            assert r.kind in steps.RESOURCE_KINDS, (step.id, r)
            assert r.url.startswith(("https://", "http://")), (step.id, r)


def test_prerequisites_form_a_dag_rooted_in_math() -> None:
    ids = set(PATH.ids())
    for step in PATH.steps:
        assert set(step.prerequisites) <= ids, step.id
        assert step.id not in step.prerequisites
    order = steps.topological_order(PATH)  # raises on a cycle
    assert len(order) == len(PATH.steps)
    roots = [s for s in PATH.steps if not s.prerequisites]
    assert roots and all(s.section == "math" for s in roots)


def test_a_cycle_is_reported() -> None:
    text = """
[[sections]]
id = "math"
title = { en = "Math", de = "Mathematik" }
[[steps]]
id = "a"
section = "math"
type = "concept"
status = "planned"
prerequisites = ["b"]
title = { en = "A", de = "A" }
summary = { en = "A", de = "A" }
[[steps]]
id = "b"
section = "math"
type = "concept"
status = "planned"
prerequisites = ["a"]
title = { en = "B", de = "B" }
summary = { en = "B", de = "B" }
"""
    with pytest.raises(ValueError, match="cycle"):
        steps.topological_order(steps.parse(text))


def test_missing_german_text_is_rejected() -> None:
    text = '[[sections]]\nid = "math"\ntitle = { en = "Math" }\n[[steps]]\n'
    with pytest.raises(ValueError, match="both 'en' and 'de'"):
        steps.parse(text)


def test_the_whole_path_is_listed() -> None:
    assert len(PATH.steps) >= 35
    for section in SECTION_ORDER:
        assert PATH.in_section(section), section
    assert {"autograd", "attention", "gpt"} <= {s.id for s in BUILT}


def test_suggestions_for_a_typo() -> None:
    assert PATH.suggestions("atention")[0] == "attention"
    assert "gpt" in PATH.suggestions("gtp")


@pytest.mark.parametrize("step", BUILT, ids=lambda s: s.id)
def test_built_steps_have_all_four_parts(step: steps.Step) -> None:
    for lang in ("en", "de"):
        assert step.lesson_path(lang).is_file(), f"{step.id}: lesson {lang}"
    assert step.module and importlib.util.find_spec(step.module), step.id
    assert step.lab and importlib.util.find_spec(step.lab), step.id
    assert step.exercise, step.id
    package = f"groundup.exercises.{step.exercise}"
    for part in ("stub.py", "checks.py", "mutants.py"):
        assert resources.files(package).joinpath(part).is_file(), (step.id, part)
    assert step.resources, step.id


@pytest.mark.parametrize("step", BUILT, ids=lambda s: s.id)
def test_english_and_german_lessons_have_the_same_structure(step: steps.Step) -> None:
    en = step.lesson_path("en").read_text(encoding="utf-8")
    de = step.lesson_path("de").read_text(encoding="utf-8")
    assert [level for level, _ in headings(en)] == [level for level, _ in headings(de)]
    assert code_blocks(en) == code_blocks(de)
    assert len(code_blocks(en)) >= 3, "a lesson teaches by running code"
    assert en != de
