"""English and German text for everything a learner reads.

A `Msg` carries both languages; `current_lang()` picks one from `--lang`, then
GROUNDUP_LANG, then the locale. CLI strings live in `MESSAGES` so a test can prove
that every key exists in both languages.
"""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass

LANGS = ("en", "de")
_lang: str | None = None


@dataclass(frozen=True)
class Msg:
    en: str
    de: str

    def get(self, lang: str | None = None, **fields: object) -> str:
        text = self.de if (lang or current_lang()) == "de" else self.en
        return text.format(**fields) if fields else text


def set_lang(lang: str | None) -> None:
    global _lang
    _lang = lang


def current_lang() -> str:
    if _lang in LANGS:
        return _lang
    env = os.environ.get("GROUNDUP_LANG", "").lower()[:2]
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "de" if value.lower().startswith("de") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "de" if loc.lower().startswith("de") else "en"


def t(key: str, **fields: object) -> str:
    """The CLI message `key` in the current language, with `fields` filled in."""
    return MESSAGES[key].get(**fields)


MESSAGES: dict[str, Msg] = {
    # general
    "app.description": Msg(
        "groundup: Transformers and LLMs, built from the ground up.",
        "groundup: Transformer und LLMs, von Grund auf gebaut.",
    ),
    "error.prefix": Msg("error", "Fehler"),
    "error.unknown_step": Msg(
        "There is no step '{step}'.", "Einen Schritt '{step}' gibt es nicht."
    ),
    "error.did_you_mean": Msg("Did you mean: {names}?", "Meinten Sie: {names}?"),
    "error.list_steps": Msg(
        "`groundup path` lists all steps.", "`groundup path` listet alle Schritte auf."
    ),
    "error.not_built": Msg(
        "Step '{step}' is planned but not built yet, so it has no {what} yet.",
        "Schritt '{step}' ist geplant, aber noch nicht gebaut; er hat noch kein(e) {what}.",
    ),
    "error.unknown_lab": Msg(
        "There is no lab '{lab}'. Labs: {names}.",
        "Ein Lab '{lab}' gibt es nicht. Labs: {names}.",
    ),
    "error.file_missing": Msg(
        "The file {file} does not exist. Write it with `groundup exercise {step}` first, or pass --file.",
        "Die Datei {file} existiert nicht. Legen Sie sie zuerst mit `groundup exercise {step}` an oder geben Sie --file an.",
    ),
    "error.data_missing": Msg(
        "The data path {file} does not exist. Pass an existing file or folder with --data (the lab's help says which format it reads).",
        "Der Datenpfad {file} existiert nicht. Geben Sie mit --data eine vorhandene Datei oder einen vorhandenen Ordner an (die Hilfe des Labs nennt das Format).",
    ),
    "error.bad_value": Msg(
        "Option --{option}: '{value}' is not valid; choose {kind}.",
        "Option --{option}: '{value}' ist ungültig; möglich sind {kind}.",
    ),
    "error.interrupted": Msg("Interrupted.", "Abgebrochen."),
    "error.internal": Msg(
        "Something went wrong inside groundup: {detail}. Run with GROUNDUP_DEBUG=1 to see the traceback.",
        "In groundup ist etwas schiefgegangen: {detail}. Mit GROUNDUP_DEBUG=1 sehen Sie den Traceback.",
    ),
    "error.lab_failed": Msg("The lab stopped: {detail}", "Das Lab wurde abgebrochen: {detail}"),
    # argparse
    "cli.lang": Msg("language of all output: en or de", "Sprache aller Ausgaben: en oder de"),
    "cli.path": Msg(
        "show the whole learning path and your progress",
        "den ganzen Lernpfad und Ihren Fortschritt zeigen",
    ),
    "cli.path.json": Msg("print the steps as JSON", "die Schritte als JSON ausgeben"),
    "cli.lesson": Msg(
        "read a step's lesson in the terminal", "die Lektion eines Schritts im Terminal lesen"
    ),
    "cli.notebook": Msg(
        "write a step's lesson as a Jupyter notebook into the workspace",
        "die Lektion eines Schritts als Jupyter-Notebook in den Arbeitsordner schreiben",
    ),
    "cli.run": Msg("run a lab", "ein Lab ausführen"),
    "cli.run.preset": Msg(
        "size: micro (seconds), tiny (minutes on a laptop, default), full (GPU or patience)",
        "Größe: micro (Sekunden), tiny (Minuten auf dem Laptop, Standard), full (GPU oder Geduld)",
    ),
    "cli.run.data": Msg(
        "train on this file instead of the embedded data",
        "mit dieser Datei statt der eingebauten Daten trainieren",
    ),
    "cli.run.device": Msg("auto, cpu, cuda or mps", "auto, cpu, cuda oder mps"),
    "cli.run.out": Msg("folder for the lab's artefacts", "Ordner für die Ergebnisse des Labs"),
    "cli.run.seed": Msg("random seed", "Zufallsstartwert"),
    "cli.run.default": Msg("default {default}", "Standard {default}"),
    "cli.exercise": Msg(
        "write a step's exercise into your workspace",
        "die Übung eines Schritts in Ihren Arbeitsordner schreiben",
    ),
    "cli.exercise.force": Msg(
        "overwrite your file even if you edited it",
        "Ihre Datei auch dann überschreiben, wenn Sie sie bearbeitet haben",
    ),
    "cli.check": Msg(
        "grade your solution of a step's exercise", "Ihre Lösung der Übung eines Schritts bewerten"
    ),
    "cli.check.file": Msg(
        "the file to grade (default: the one in your workspace)",
        "die zu bewertende Datei (Standard: die im Arbeitsordner)",
    ),
    "cli.progress": Msg("show what you have passed", "zeigen, was Sie bestanden haben"),
    "cli.data": Msg(
        "download a dataset (needs internet)", "einen Datensatz herunterladen (braucht Internet)"
    ),
    "cli.data.get": Msg(
        "download NAME into the cache", "NAME in den Zwischenspeicher herunterladen"
    ),
    "cli.workspace": Msg("your workspace folder", "Ihr Arbeitsordner"),
    "cli.step": Msg("step id, e.g. attention", "Schritt-ID, z. B. attention"),
    "cli.lab": Msg("lab name (a step id), e.g. gpt", "Name des Labs (eine Schritt-ID), z. B. gpt"),
    # path
    "path.title": Msg("The groundup learning path", "Der groundup-Lernpfad"),
    "path.status.built": Msg("built", "gebaut"),
    "path.status.planned": Msg("planned", "geplant"),
    "path.passed": Msg("passed", "bestanden"),
    "path.legend": Msg(
        "{built} of {total} steps built, {passed} passed by you. Start with `groundup lesson {first}`.",
        "{built} von {total} Schritten gebaut, {passed} davon von Ihnen bestanden. Beginnen Sie mit `groundup lesson {first}`.",
    ),
    # lesson / notebook / exercise
    "lesson.footer": Msg(
        "Lab: `groundup run {step}`   Exercise: `groundup exercise {step}`, then `groundup check {step}`",
        "Lab: `groundup run {step}`   Übung: `groundup exercise {step}`, dann `groundup check {step}`",
    ),
    "notebook.written": Msg("Notebook written: {file}", "Notebook geschrieben: {file}"),
    "exercise.written": Msg(
        "Exercise written: {file}\nFill in the TODOs, then run `groundup check {step}`.",
        "Übung geschrieben: {file}\nFüllen Sie die TODOs aus und rufen Sie dann `groundup check {step}` auf.",
    ),
    "exercise.kept": Msg(
        "{file} already exists and differs from the stub, so it was kept. Use --force to start over.",
        "{file} existiert schon und unterscheidet sich vom Gerüst, darum bleibt sie erhalten. Mit --force beginnen Sie neu.",
    ),
    # check
    "check.title": Msg("Checking {file} for step '{step}'", "Prüfe {file} für Schritt '{step}'"),
    "check.compared": Msg("compared", "verglichen"),
    "check.expected": Msg("expected", "erwartet"),
    "check.got": Msg("got", "erhalten"),
    "check.where": Msg("first difference", "erster Unterschied"),
    "check.hint": Msg("hint", "Tipp"),
    "check.output": Msg("your program printed", "Ihr Programm hat ausgegeben"),
    "check.summary.pass": Msg(
        "All {n} checks passed. Step '{step}' is marked as passed.",
        "Alle {n} Prüfungen bestanden. Schritt '{step}' ist als bestanden vermerkt.",
    ),
    "check.summary.fail": Msg(
        "{passed} of {n} checks passed. Fix the first failing check and run again.",
        "{passed} von {n} Prüfungen bestanden. Beheben Sie die erste fehlgeschlagene Prüfung und versuchen Sie es erneut.",
    ),
    # progress
    "progress.title": Msg("Your progress", "Ihr Fortschritt"),
    "progress.none": Msg(
        "Nothing passed yet. `groundup path` shows where to start.",
        "Noch nichts bestanden. `groundup path` zeigt, wo Sie anfangen.",
    ),
    "progress.step": Msg("step", "Schritt"),
    "progress.when": Msg("passed on", "bestanden am"),
    "progress.attempts": Msg("attempts", "Versuche"),
    # run
    "run.start": Msg(
        "Lab '{lab}', preset {preset}, device {device}, output in {out}",
        "Lab '{lab}', Voreinstellung {preset}, Gerät {device}, Ergebnisse in {out}",
    ),
    "run.summary": Msg("Summary of lab '{lab}'", "Zusammenfassung von Lab '{lab}'"),
    "run.artifacts": Msg("artefacts", "Ergebnisse"),
    "run.seconds": Msg("finished in {seconds:.1f} s", "fertig nach {seconds:.1f} s"),
    "run.no_lab": Msg("Name the lab to run.", "Nennen Sie das Lab, das laufen soll."),
    "run.labs": Msg(
        "Labs: {names}. `groundup run LAB --help` lists a lab's settings.",
        "Labs: {names}. `groundup run LAB --help` zeigt die Einstellungen eines Labs.",
    ),
    "run.device_unavailable": Msg(
        "Device '{device}' is not available on this machine. Use --device cpu or auto.",
        "Gerät '{device}' ist auf diesem Rechner nicht verfügbar. Nehmen Sie --device cpu oder auto.",
    ),
    # data
    "data.unknown": Msg(
        "There is no dataset '{name}'. Datasets: {names}.",
        "Einen Datensatz '{name}' gibt es nicht. Datensätze: {names}.",
    ),
    "data.cached": Msg(
        "{name} is already in the cache: {file}", "{name} liegt schon im Zwischenspeicher: {file}"
    ),
    "data.downloading": Msg("Downloading {name} from {url}", "Lade {name} von {url} herunter"),
    "data.done": Msg(
        "{name} saved to {file} (sha256 verified)",
        "{name} gespeichert unter {file} (sha256 geprüft)",
    ),
    "data.offline": Msg(
        "Could not download {name} from {url}: {detail}. Check your internet connection, or pass a local file with --data.",
        "{name} konnte nicht von {url} geladen werden: {detail}. Prüfen Sie die Internetverbindung oder geben Sie eine lokale Datei mit --data an.",
    ),
    "data.bad_hash": Msg(
        "The download of {name} has sha256 {got}, expected {expected}; it was discarded.",
        "Der Download von {name} hat sha256 {got}, erwartet war {expected}; er wurde verworfen.",
    ),
    "data.is_folder": Msg(
        "{file} is a folder, but this lab reads one UTF-8 text file: pass the file itself with --data.",
        "{file} ist ein Ordner, dieses Lab liest aber eine einzelne UTF-8-Textdatei: Geben Sie die Datei selbst mit --data an.",
    ),
    "data.not_text": Msg(
        "{file} is not UTF-8 text (byte {pos}). Pass a UTF-8 text file.",
        "{file} ist kein UTF-8-Text (Byte {pos}). Geben Sie eine UTF-8-Textdatei an.",
    ),
    "data.too_small": Msg(
        "{file} has {n} characters; this lab needs at least {need}.",
        "{file} hat {n} Zeichen; dieses Lab braucht mindestens {need}.",
    ),
}


# Help for lab settings (`groundup run LAB --help`); every lab Config field has an entry.
LAB_FIELDS: dict[str, Msg] = {
    "max_chars": Msg(
        "use only the first max_chars characters of the text (0: all of it)",
        "nur die ersten max_chars Zeichen des Textes verwenden (0: den ganzen Text)",
    ),
    "quiet": Msg("no progress bars", "keine Fortschrittsbalken"),
    "resume": Msg("continue from the checkpoint in --out", "vom Checkpoint in --out weitermachen"),
    "hidden": Msg("width of each hidden layer", "Breite jeder verborgenen Schicht"),
    "layers": Msg("number of hidden layers", "Anzahl verborgener Schichten"),
    "activation": Msg(
        "activation function, e.g. relu, tanh, gelu", "Aktivierungsfunktion, z. B. relu, tanh, gelu"
    ),
    "epochs": Msg("passes over the training data", "Durchläufe durch die Trainingsdaten"),
    "batch_size": Msg("examples per training step", "Beispiele pro Trainingsschritt"),
    "optimizer": Msg("optimizer: sgd or adam", "Optimierer: sgd oder adam"),
    "lr": Msg("learning rate", "Lernrate"),
    "min_lr": Msg(
        "learning rate at the end of the cosine decay", "Lernrate am Ende des Kosinus-Abfalls"
    ),
    "momentum": Msg("momentum of SGD", "Momentum von SGD"),
    "test_fraction": Msg(
        "share of the data held out for testing",
        "Anteil der Daten, der zum Testen zurückgehalten wird",
    ),
    "task": Msg(
        "what the model learns: reverse or copy",
        "was das Modell lernt: reverse (umkehren) oder copy (kopieren)",
    ),
    "seq_len": Msg("tokens per input sequence", "Tokens pro Eingabesequenz"),
    "vocab": Msg("number of distinct tokens", "Anzahl verschiedener Tokens"),
    "d_model": Msg("model width", "Modellbreite"),
    "n_heads": Msg("attention heads", "Attention-Köpfe"),
    "n_head": Msg("attention heads", "Attention-Köpfe"),
    "n_layers": Msg("Transformer layers", "Transformer-Schichten"),
    "n_layer": Msg("Transformer blocks", "Transformer-Blöcke"),
    "n_embd": Msg("embedding width", "Breite der Embeddings"),
    "block_size": Msg("context length in tokens", "Kontextlänge in Tokens"),
    "steps": Msg("training steps", "Trainingsschritte"),
    "max_iters": Msg("training steps", "Trainingsschritte"),
    "warmup_iters": Msg(
        "steps of linear learning-rate warm-up", "Schritte linearer Aufwärmphase der Lernrate"
    ),
    "eval_every": Msg("steps between evaluations", "Schritte zwischen zwei Auswertungen"),
    "eval_interval": Msg(
        "steps between evaluations (and checkpoints)",
        "Schritte zwischen zwei Auswertungen (und Checkpoints)",
    ),
    "eval_size": Msg(
        "fresh sequences for the accuracy figures", "neue Sequenzen für die Genauigkeitswerte"
    ),
    "eval_iters": Msg("batches per evaluation", "Batches pro Auswertung"),
    "dropout": Msg("dropout probability", "Dropout-Wahrscheinlichkeit"),
    "weight_decay": Msg("AdamW weight decay", "Gewichtsabnahme (weight decay) von AdamW"),
    "grad_clip": Msg(
        "clip the gradient norm to this (0: off)",
        "Gradientennorm auf diesen Wert begrenzen (0: aus)",
    ),
    "sample_tokens": Msg("characters to generate at the end", "am Ende zu erzeugende Zeichen"),
    "temperature": Msg("sampling temperature", "Sampling-Temperatur"),
    "top_k": Msg(
        "sample only from the k most likely tokens",
        "nur aus den k wahrscheinlichsten Tokens ziehen",
    ),
    "top_p": Msg(
        "nucleus sampling: smallest set with this probability",
        "Nucleus-Sampling: kleinste Menge mit dieser Wahrscheinlichkeit",
    ),
}
