"""The content of steps.toml: a complete, ordered journey whose built steps stay wired up."""

import re

import pytest

from groundup.path import steps

PATH = steps.load()
BY_ID = {s.id: s for s in PATH.steps}
SECTION_RANK = {section.id: rank for rank, section in enumerate(PATH.sections)}
BUILT = {
    "autograd": ("groundup.autograd.engine", "groundup.labs.autograd", "autograd"),
    "attention": ("groundup.nn.attention", "groundup.labs.attention", "attention"),
    "gpt": ("groundup.models.gpt", "groundup.labs.gpt", "gpt"),
}
# Links the source roadmaps give verbatim; each must stay on the path.
SEED_URLS = [
    "https://www.youtube.com/watch?v=fKMB5UlVY1E&list=PLoROMvodv4rNiJRchCzutFw5ItR_Z27CM&index=26",
    "http://neuralnetworksanddeeplearning.com",
    "https://www.youtube.com/watch?v=aircAruvnKk&list=PLZHQObOWTQDNU6R1_67000Dx_ZCJB-3pi",
]


def ancestors(step_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(BY_ID[step_id].prerequisites)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(BY_ID[current].prerequisites)
    return seen


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


def test_every_section_has_steps_and_the_path_is_about_forty_to_sixty_steps() -> None:
    assert 40 <= len(PATH.steps) <= 60
    for section in PATH.sections:
        assert len(PATH.in_section(section.id)) >= 4, section.id


def test_built_steps_keep_their_wiring() -> None:
    for step_id, (module, lab, exercise) in BUILT.items():
        step = BY_ID[step_id]
        assert step.status == "built"
        assert (step.module, step.lab, step.exercise) == (module, lab, exercise)


def test_built_steps_name_their_lab_and_exercise_after_the_step() -> None:
    for step in PATH.steps:
        if step.built:
            package = step.id.replace("-", "_")
            assert (step.lab, step.exercise) == (f"groundup.labs.{package}", package), step.id
            assert step.module and step.module.startswith("groundup."), step.id


def test_planned_steps_name_no_module_lab_or_exercise() -> None:
    for step in PATH.steps:
        if not step.built:
            assert (step.module, step.lab, step.exercise) == (None, None, None), step.id


def test_the_built_chain_runs_from_math_through_autograd_and_attention_to_gpt() -> None:
    assert any(BY_ID[p].section == "math" for p in BY_ID["autograd"].prerequisites)
    assert "autograd" in ancestors("attention")
    assert "attention" in BY_ID["gpt"].prerequisites


def test_math_depends_only_on_math_and_everything_else_on_something() -> None:
    for step in PATH.steps:
        if step.section == "math":
            assert all(BY_ID[p].section == "math" for p in step.prerequisites), step.id
        else:
            assert step.prerequisites, step.id


def test_prerequisites_never_point_to_a_later_section_or_a_later_line() -> None:
    position = {s.id: i for i, s in enumerate(PATH.steps)}
    for step in PATH.steps:
        for prerequisite in step.prerequisites:
            assert SECTION_RANK[BY_ID[prerequisite].section] <= SECTION_RANK[step.section]
            assert position[prerequisite] < position[step.id], (step.id, prerequisite)
        assert len(set(step.prerequisites)) == len(step.prerequisites), step.id


def test_the_file_order_is_a_topological_order() -> None:
    assert [s.id for s in steps.topological_order(PATH)] == PATH.ids()


@pytest.mark.parametrize("step", PATH.steps, ids=lambda s: s.id)
def test_texts_are_short_and_translated(step: steps.Step) -> None:
    for lang in ("en", "de"):
        summary = step.summary.get(lang)
        assert 1 <= sentences(summary) <= 2, (step.id, lang, summary)
        assert len(step.title.get(lang)) <= 70, (step.id, lang)
    assert step.summary.en != step.summary.de, step.id


@pytest.mark.parametrize("step", PATH.steps, ids=lambda s: s.id)
def test_every_step_has_distinct_resources(step: steps.Step) -> None:
    assert step.resources, step.id
    urls = [r.url for r in step.resources]
    assert len(urls) == len(set(urls)), step.id
    for resource in step.resources:
        assert resource.title.strip() and resource.url.strip(), step.id
        assert not re.search(r"\s", resource.url), (step.id, resource.url)


def test_the_seed_links_are_used_verbatim() -> None:
    used = {r.url for s in PATH.steps for r in s.resources}
    for url in SEED_URLS:
        assert url in used, url
