"""The `groundup` command: the path, lessons, labs, exercises, grading and progress.

Heavy imports (torch, matplotlib) happen inside the commands that need them, so
`groundup path` and `groundup --help` start fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from groundup import i18n
from groundup.i18n import t

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # paths stay whole

# argparse's own messages, in German (argparse looks them up through gettext's `_`).
ARGPARSE_DE = {
    "usage: ": "Aufruf: ",
    "positional arguments": "Positionsargumente",
    "options": "Optionen",
    "show this help message and exit": "diese Hilfe zeigen und beenden",
    "the following arguments are required: %s": "diese Argumente fehlen: %s",
    "unrecognized arguments: %s": "unbekannte Argumente: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "ungültige Wahl: %(value)r (möglich: %(choices)s)",
    "argument %(argument_name)s: %(message)s": "Argument %(argument_name)s: %(message)s",
    "expected one argument": "erwartet genau ein Argument",
    "invalid %(type)s value: %(value)r": "ungültiger %(type)s-Wert: %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "mehrdeutige Option: %(option)s passt zu %(matches)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Fehler: %(message)s\n",
    "not allowed with argument %s": "nicht erlaubt zusammen mit Argument %s",
    "commands": "Befehle",
}


class CliError(Exception):
    """A mistake of the user's: shown as a message, exit code `code`, no traceback."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise CliError(message, code=2)


def _translate_argparse(lang: str) -> None:
    argparse._ = (lambda s: ARGPARSE_DE.get(s, s)) if lang == "de" else (lambda s: s)  # type: ignore[attr-defined]


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


# ----------------------------------------------------------------------------- parser


def build_parser() -> Parser:
    parser = Parser(prog="groundup", description=t("app.description"))
    parser.add_argument("--lang", choices=i18n.LANGS, help=t("cli.lang"))
    parser.add_argument("--workspace", type=Path, help=t("cli.workspace"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    p = sub.add_parser("path", help=t("cli.path"), description=t("cli.path"))
    p.add_argument("--json", action="store_true", help=t("cli.path.json"))

    for name, help_key in (("lesson", "cli.lesson"), ("notebook", "cli.notebook")):
        p = sub.add_parser(name, help=t(help_key), description=t(help_key))
        p.add_argument("step", help=t("cli.step"))

    p = sub.add_parser("run", help=t("cli.run"), description=t("cli.run"), add_help=False)
    p.add_argument("lab", nargs="?", help=t("cli.lab"))
    p.add_argument("lab_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("exercise", help=t("cli.exercise"), description=t("cli.exercise"))
    p.add_argument("step", help=t("cli.step"))
    p.add_argument("--force", action="store_true", help=t("cli.exercise.force"))

    p = sub.add_parser("check", help=t("cli.check"), description=t("cli.check"))
    p.add_argument("step", help=t("cli.step"))
    p.add_argument("--file", type=Path, help=t("cli.check.file"))

    sub.add_parser("progress", help=t("cli.progress"), description=t("cli.progress"))

    p = sub.add_parser("data", help=t("cli.data"), description=t("cli.data"))
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION", parser_class=Parser)
    data_sub.required = True
    g = data_sub.add_parser("get", help=t("cli.data.get"), description=t("cli.data.get"))
    g.add_argument("name")
    g.add_argument("--url", help=argparse.SUPPRESS)  # a mirror or a local file:// copy
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_from_argv(argv)
    i18n.set_lang(lang if lang in i18n.LANGS else None)
    _translate_argparse(i18n.current_lang())
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except CliError as e:
        err_console.print(f"[bold red]{t('error.prefix')}:[/] {e}", markup=True, highlight=False)
        return e.code
    except KeyboardInterrupt:
        err_console.print(t("error.interrupted"))
        return 130
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a raw traceback
        if os.environ.get("GROUNDUP_DEBUG"):
            raise
        err_console.print(
            f"[bold red]{t('error.prefix')}:[/] "
            + t("error.internal", detail=f"{type(e).__name__}: {e}")
        )
        return 1


# ----------------------------------------------------------------------------- helpers


def _step(step_id: str, need: str | None = None) -> Any:
    from groundup.path import steps

    path = steps.load()
    try:
        step = path.get(step_id)
    except KeyError:
        message = t("error.unknown_step", step=step_id)
        close = path.suggestions(step_id)
        message += " " + (
            t("error.did_you_mean", names=", ".join(close)) if close else t("error.list_steps")
        )
        raise CliError(message) from None
    if need is not None and getattr(step, need) is None:
        raise CliError(t("error.not_built", step=step_id, what=need))
    return step


def _workspace(args: argparse.Namespace) -> Path:
    return Path(args.workspace or os.environ.get("GROUNDUP_WORKSPACE") or "groundup-workspace")


def _stub_source(exercise: str) -> str:
    from importlib import resources

    return (
        resources.files(f"groundup.exercises.{exercise}")
        .joinpath("stub.py")
        .read_text(encoding="utf-8")
    )


# ----------------------------------------------------------------------------- commands


def cmd_path(args: argparse.Namespace) -> int:
    from rich.tree import Tree

    from groundup.path import steps
    from groundup.path.progress import ProgressStore

    path = steps.load()
    passed = ProgressStore().passed()
    if args.json:
        data = [
            {
                "id": s.id,
                "section": s.section,
                "type": s.type,
                "status": s.status,
                "prerequisites": list(s.prerequisites),
                "title": {"en": s.title.en, "de": s.title.de},
                "summary": {"en": s.summary.en, "de": s.summary.de},
                "resources": [dataclasses.asdict(r) for r in s.resources],
                "passed": s.id in passed,
            }
            for s in path.steps
        ]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    lang = i18n.current_lang()
    tree = Tree(f"[bold]{t('path.title')}[/]")
    for number, section in enumerate(path.sections, 1):
        branch = tree.add(f"[bold cyan]{number}. {section.title.get(lang)}[/]")
        for step in path.in_section(section.id):
            if step.id in passed:
                mark, style = "✔", "green"
            elif step.built:
                mark, style = "●", "bold"
            else:
                mark, style = "○", "dim"
            status = t("path.passed") if step.id in passed else t(f"path.status.{step.status}")
            line = f"[{style}]{mark} {step.title.get(lang)}[/] [dim]({step.id}, {status})[/]"
            if step.prerequisites:
                line += f"[dim]  ← {', '.join(step.prerequisites)}[/]"
            branch.add(line)
    console.print(tree)
    built = [s for s in path.steps if s.built]
    first = next(
        (s.id for s in steps.topological_order(path) if s.built and s.id not in passed),
        built[0].id if built else "",
    )
    console.print(
        t(
            "path.legend",
            built=len(built),
            total=len(path.steps),
            passed=len(passed & {s.id for s in path.steps}),
            first=first,
        )
    )
    return 0


def cmd_lesson(args: argparse.Namespace) -> int:
    from rich.markdown import Markdown
    from rich.rule import Rule

    step = _step(args.step)
    lesson = step.lesson_path(i18n.current_lang())
    if not lesson.exists():
        raise CliError(t("error.not_built", step=step.id, what="lesson"))
    console.print(Markdown(lesson.read_text(encoding="utf-8"), code_theme="monokai"))
    console.print(Rule())
    console.print(t("lesson.footer", step=step.id))
    return 0


def cmd_notebook(args: argparse.Namespace) -> int:
    from groundup.path.lessons import to_notebook

    step = _step(args.step)
    lang = i18n.current_lang()
    lesson = step.lesson_path(lang)
    if not lesson.exists():
        raise CliError(t("error.not_built", step=step.id, what="lesson"))
    target = _workspace(args) / f"{step.id}.{lang}.ipynb"
    to_notebook(lesson.read_text(encoding="utf-8"), target, title=step.title.get(lang))
    console.print(t("notebook.written", file=target))
    return 0


def cmd_exercise(args: argparse.Namespace) -> int:
    from groundup.files import atomic_write_text

    step = _step(args.step, need="exercise")
    stub = _stub_source(step.exercise)
    target = _workspace(args) / f"{step.id}.py"
    if target.exists() and target.read_text(encoding="utf-8") != stub and not args.force:
        console.print(t("exercise.kept", file=target))
        return 0
    atomic_write_text(target, stub)
    console.print(t("exercise.written", file=target, step=step.id))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from groundup.exercises.grader import grade
    from groundup.path.progress import ProgressStore

    step = _step(args.step, need="exercise")
    file = args.file or _workspace(args) / f"{step.id}.py"
    if not file.is_file():
        raise CliError(t("error.file_missing", file=file, step=step.id))
    lang = i18n.current_lang()
    console.print(f"[bold]{t('check.title', file=file, step=step.id)}[/]")
    report = grade(step.exercise, file, lang=lang)
    if report.load_error is not None:
        console.print(f"[red]✘ {report.load_error['message']}[/]")
        if report.load_error.get("detail"):
            console.print(f"  {report.load_error['detail']}", markup=False)
    for r in report.results:
        if r.ok:
            console.print(f"[green]✔[/] {r.title} [dim]({r.name})[/]")
            continue
        console.print(f"[red]✘ {r.title}[/] [dim]({r.name}, {r.status})[/]")
        for key, value in (
            ("compared", r.compared),
            ("expected", r.expected),
            ("got", r.got),
            ("where", r.where),
            ("hint", r.hint),
        ):
            if value:
                console.print(f"    [bold]{t('check.' + key)}:[/] ", end="")
                console.print(value, markup=False)
    if not report.passed and report.output.strip():
        console.print(f"[dim]{t('check.output')}:[/]")
        console.print(report.output.strip()[-800:], markup=False, style="dim")
    n = len(report.results)
    n_ok = sum(r.ok for r in report.results)
    ProgressStore().record(
        step.id, report.passed, n_ok, n, hashlib.sha256(file.read_bytes()).hexdigest()
    )
    if report.passed:
        console.print(f"[bold green]{t('check.summary.pass', n=n, step=step.id)}[/]")
        return 0
    console.print(f"[bold red]{t('check.summary.fail', passed=n_ok, n=n)}[/]")
    return 1


def cmd_progress(args: argparse.Namespace) -> int:
    from rich.table import Table

    from groundup.path import steps
    from groundup.path.progress import ProgressStore

    summary = ProgressStore().summary()
    path = steps.load()
    if not summary:
        console.print(t("progress.none"))
        return 0
    lang = i18n.current_lang()
    table = Table(title=t("progress.title"), title_justify="left")
    for column in ("progress.step", "progress.when", "progress.attempts"):
        table.add_column(t(column))
    for step in path.steps:
        if step.id in summary:
            p = summary[step.id]
            table.add_row(
                f"{step.title.get(lang)} ({step.id})", p.passed_at or "—", str(p.attempts)
            )
    console.print(table)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from groundup.data import registry

    try:
        registry.get(args.name, url_override=args.url, log=lambda m: console.print(m, markup=False))
    except registry.DownloadError as e:
        raise CliError(str(e), code=1) from None
    return 0


# ----------------------------------------------------------------------------- labs


def _field_type(hint: Any) -> type:
    """The argparse type of a Config field: `int | None` parses as int (absent means None)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _lab_parser(lab_name: str, lab: types.ModuleType) -> Parser:
    from groundup.labs.runner import PRESET_NAMES

    parser = Parser(prog=f"groundup run {lab_name}", description=t("cli.run"))
    parser.add_argument("--preset", choices=PRESET_NAMES, default="tiny", help=t("cli.run.preset"))
    common = {
        "data": t("cli.run.data"),
        "device": t("cli.run.device"),
        "out": t("cli.run.out"),
        "seed": t("cli.run.seed"),
    }
    config_cls = lab.Config
    field_help = i18n.LAB_FIELDS | getattr(lab, "FIELD_HELP", {})  # a lab may explain its own
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        if f.name == "preset":
            continue
        kind = _field_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        described = common.get(f.name) or field_help[f.name].get()
        help_text = f"{described} ({t('cli.run.default', default=default)})"
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        else:
            parser.add_argument(
                flag,
                dest=f.name,
                type=kind,
                default=None,
                metavar=kind.__name__.upper(),
                help=help_text,
            )
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    import importlib

    from groundup.path import steps

    path = steps.load()
    labs = {s.id: s.lab for s in path.steps if s.lab}
    if args.lab is None or args.lab in ("-h", "--help"):
        usage = "groundup run LAB [--preset micro|tiny|full] [--data FILE] [--device auto|cpu|cuda|mps] [--out DIR] [--seed N]"
        console.print(
            f"{t('cli.run')}\n{usage}\n{t('run.labs', names=', '.join(labs))}", markup=False
        )
        if args.lab is None:
            raise CliError(t("run.no_lab"))
        return 0
    if args.lab not in labs:
        close = [c for c in path.suggestions(args.lab, n=5) if c in labs]
        message = t("error.unknown_lab", lab=args.lab, names=", ".join(labs))
        if close:
            message += " " + t("error.did_you_mean", names=", ".join(close))
        raise CliError(message)
    lab = importlib.import_module(labs[args.lab])
    from groundup.labs import runner

    lab_args = vars(_lab_parser(args.lab, lab).parse_args(args.lab_args))
    preset = lab_args.pop("preset")
    try:
        cfg = runner.make_config(lab.Config, lab.PRESETS, preset, **lab_args)
        if cfg.data is not None and not Path(cfg.data).exists():
            raise runner.LabError(t("error.data_missing", file=cfg.data))
        out = runner.default_out(cfg, args.lab)
        console.print(
            t("run.start", lab=args.lab, preset=cfg.preset, device=cfg.device, out=out),
            markup=False,
        )
        report = lab.run(cfg)
    except runner.LabError as e:
        raise CliError(t("error.lab_failed", detail=e), code=1) from None
    runner.print_summary(report, console)
    return 0


COMMANDS = {
    "path": cmd_path,
    "lesson": cmd_lesson,
    "notebook": cmd_notebook,
    "run": cmd_run,
    "exercise": cmd_exercise,
    "check": cmd_check,
    "progress": cmd_progress,
    "data": cmd_data,
}
