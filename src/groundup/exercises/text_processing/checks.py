"""Checks for the text_processing exercise, against groundup.text.tokenize and
groundup.text.porter (which equals nltk.stem.PorterStemmer word for word).

Tokens are compared exactly, offsets included, on English and German sentences, each check
aimed at one rule of the tokenizer. The stemmer steps are compared on the paper's examples
and on about 3,000 words: real English words with the suffixes the rules look at, and
made-up words from a seeded generator that are rich in y, doubled consonants and short
stems, where most slips show.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

from groundup.exercises.checking import Check, Mismatch, call, check, excerpt, require
from groundup.i18n import Msg
from groundup.text import porter
from groundup.text.tokenize import word_tokens

FUNCTIONS = ["tokenize", "measure", "step1a", "step1b"]

REFERENCE = """from groundup.text.porter import measure, step1a, step1b
from groundup.text.tokenize import word_tokens


def tokenize(text):
    return [tuple(token) for token in word_tokens(text)]
"""

BASES = [
    "cat", "pony", "caress", "hop", "fall", "hiss", "fizz", "fail", "file", "agree", "feed",
    "plaster", "motor", "sing", "conflat", "troubl", "siz", "tan", "die", "spy", "tie", "happy",
    "try", "ow", "sky", "bleed", "need", "relat", "control", "hope", "stop", "plan", "visit",
    "open", "enjoy", "play", "study", "argu", "creat", "generaliz", "possibl", "run", "sit",
    "buzz", "add", "err", "see", "be", "go", "yell", "toy", "syzygy", "lie", "fly", "dry",
]  # fmt: skip
SUFFIXES = ["", "s", "es", "ies", "sses", "ss", "ed", "ied", "eed", "ing", "y", "ly", "ness"]
FIXED_WORDS = [
    "caresses", "ponies", "ties", "caress", "cats", "dies", "spies", "feed", "agreed", "bled",
    "plastered", "motoring", "sing", "conflated", "troubled", "sized", "hopping", "tanned",
    "falling", "hissing", "fizzed", "failing", "filing", "died", "spied", "owed", "eyed",
    "seed", "speed", "succeed", "yes", "ss", "s", "ies", "is", "as", "us", "sses", "bus",
]  # fmt: skip


def word_list(seed: int, n: int) -> list[str]:
    """Fixed words, real stems with suffixes, and made-up words rich in the tricky letters."""
    rng = random.Random(seed)
    words = FIXED_WORDS + [base + suffix for base in BASES for suffix in SUFFIXES]
    letters = "aeiouyybcdfgllmnprssttzw"
    while len(words) < n:
        stem = "".join(rng.choice(letters) for _ in range(rng.randint(1, 7)))
        words.append(stem + rng.choice(SUFFIXES + ["ed", "ing", "ied", "eed", "at", "bl", "iz"]))
    return words


def compare_tokens(module: ModuleType, texts: list[str]) -> None:
    fn = require(module, "tokenize")
    for text in texts:
        compared = Msg(f"tokenize({text!r})", f"tokenize({text!r})")
        got = call(compared, fn, text)
        expected = [tuple(token) for token in word_tokens(text)]
        try:
            got_list = [tuple(item) for item in got]
        except TypeError:
            raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got)) from None
        if got_list != expected:
            where = first_difference(got_list, expected)
            raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got_list), where=where)


def first_difference(got: list[Any], expected: list[Any]) -> str:
    for i, (a, b) in enumerate(zip(got, expected, strict=False)):
        if a != b:
            return f"token {i}: expected {b!r}, got {a!r}"
    return f"expected {len(expected)} tokens, got {len(got)}"


def compare_words(module: ModuleType, name: str, words: list[str]) -> None:
    fn = require(module, name)
    reference = getattr(porter, name)
    for word in words:
        compared = Msg(f"{name}({word!r})", f"{name}({word!r})")
        got = call(compared, fn, word)
        expected = reference(word)
        if got != expected:
            raise Mismatch(compared, expected=repr(expected), got=excerpt(got))


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def offsets(module: ModuleType) -> None:
    fn = require(module, "tokenize")
    texts = ["Hello, world!", "  Die   Straße\tist\nnass.  ", "a", "", "x=1;y=(2)", "Ünïcödé ok"]
    for text in texts:
        compared = Msg(f"offsets of tokenize({text!r})", f"Offsets von tokenize({text!r})")
        got = call(compared, fn, text)
        covered: list[int] = []
        last_end = 0
        for item in got:
            if not (isinstance(item, tuple | list) and len(item) == 3):
                raise Mismatch(compared, expected="(token, start, end) triples", got=excerpt(item))
            token, start, end = item
            if text[start:end] != token or not token:
                raise Mismatch(compared, expected=f"text[{start}:{end}] == {token!r}",
                               got=repr(text[start:end]), where=f"token {item!r}")  # fmt: skip
            if start < last_end:
                raise Mismatch(compared, expected="tokens in order, not overlapping",
                               got=f"{item!r} starts before {last_end}")  # fmt: skip
            last_end = end
            covered += range(start, end)
        missing = [i for i, c in enumerate(text) if not c.isspace() and i not in covered]
        spaces = [i for i in covered if text[i].isspace()]
        if missing or spaces:
            raise Mismatch(compared, expected="every non-space character in one token, no spaces",
                           got=f"uncovered positions {missing[:5]}, spaces at {spaces[:5]}")  # fmt: skip


def words_and_punctuation(module: ModuleType) -> None:
    compare_tokens(module, [
        "The cat sat on the mat.", "Hello, world! (Really?) Yes; no: maybe...",
        "Die Katze saß auf der Matte -- oder nicht?", "Grüße aus Köln & Düsseldorf #1!",
        "Wait...what?! x_1 = y_2", "„Guten Morgen“, sagte sie.",
    ])  # fmt: skip


def numbers(module: ModuleType) -> None:
    compare_tokens(module, [
        "Pi is 3.14159, not 3.", "It costs $1,000.50 (or 1.000,50 EUR).",
        "Am 3. Mai um 7.30 Uhr kamen 2,5 Mio. Gäste.", "The 3rd and 42nd items; 10.5kg, 1,2,3.",
    ])  # fmt: skip


def contractions(module: ModuleType) -> None:
    compare_tokens(module, [
        "I don't know.", "She's sure they'll come, isn't it?", "We can't and won't go.",
        "I'M SURE HE'LL COME. YOU'D THINK SO.", "They're here, we've seen, I'd say so.",
        "O'Brien's dog isn't rock'n'roll.", "'Single quotes' stay apart.",
    ])  # fmt: skip


def hyphens(module: ModuleType) -> None:
    compare_tokens(module, [
        "A state-of-the-art e-mail client.", "Ein Max-Planck-Institut-Mitarbeiter kam.",
        "Pages 3-5 -- and a trailing- hyphen -x.", "co-author's well-known long--dash",
    ])  # fmt: skip


def urls_and_emails(module: ModuleType) -> None:
    compare_tokens(module, [
        "See https://example.org/a?b=1&c=2.", "Mail jane.doe+news@mail.example.co.uk, please!",
        "Visit www.uni-heidelberg.de (or http://x.de/).", "Schreiben Sie an info@example.de.",
    ])  # fmt: skip


def measure_check(module: ModuleType) -> None:
    fn = require(module, "measure")
    examples = ["tr", "ee", "tree", "y", "by", "trouble", "oats", "trees", "ivy", "troubles",
                "private", "oaten", "orrery", "toy", "syzygy", "yell", "sky", "", "a", "yyy"]  # fmt: skip
    for stem in examples + word_list(1, 1500):
        compared = Msg(f"measure({stem!r})", f"measure({stem!r})")
        got = call(compared, fn, stem)
        if got != porter.measure(stem):
            raise Mismatch(compared, expected=str(porter.measure(stem)), got=excerpt(got))


def step1a_check(module: ModuleType) -> None:
    compare_words(module, "step1a", word_list(2, 3000))


def step1b_check(module: ModuleType) -> None:
    compare_words(module, "step1b", word_list(3, 3000))


CHECKS: list[Check] = [
    check(
        "exists",
        ("functions tokenize, measure, step1a and step1b",
         "Funktionen tokenize, measure, step1a und step1b"),
        ("Define all four functions at the top level of your file, with these names.",
         "Definieren Sie alle vier Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei."),
        defines_functions,
    ),
    check(
        "offsets",
        ("tokenize: text[start:end] == token for every token, in order, nothing lost",
         "tokenize: text[start:end] == token für jedes Token, in Reihenfolge, nichts verloren"),
        ("Return (token, start, end) triples with end exclusive, as match.start() and "
         "match.end() of re.finditer give them. Every character that is not whitespace must "
         "be in exactly one token, and no token may contain whitespace.",
         "Geben Sie Tripel (token, start, ende) zurück, ende exklusiv, wie match.start() und "
         "match.end() von re.finditer sie liefern. Jedes Zeichen außer Leerraum gehört zu "
         "genau einem Token, und kein Token enthält Leerraum."),
        offsets,
    ),
    check(
        "words_and_punctuation",
        ("words and punctuation marks, English and German",
         "Wörter und Satzzeichen, Englisch und Deutsch"),
        ("A word is a run of \\w characters (that includes ä, ß and _); every other "
         "non-space character is a token of its own, except '...' and '--'. Splitting at "
         "spaces alone leaves 'mat.' in one piece.",
         "Ein Wort ist eine Folge von \\w-Zeichen (dazu gehören ä, ß und _); jedes andere "
         "Zeichen außer Leerraum ist ein eigenes Token, außer '...' und '--'. Wer nur an "
         "Leerzeichen trennt, lässt 'mat.' zusammen."),
        words_and_punctuation,
    ),
    check(
        "numbers",
        ("numbers with decimal and thousands separators stay whole",
         "Zahlen mit Dezimal- und Tausendertrennzeichen bleiben ganz"),
        ("Try the number rule before the word rule: \\d+(?:[.,]\\d+)* and not followed by "
         "\\w, so '3.14' and '1.000,50' are one token, '3.' is '3' + '.', and '3rd' is a word.",
         "Prüfen Sie die Zahlenregel vor der Wortregel: \\d+(?:[.,]\\d+)* ohne folgendes \\w, "
         "sodass '3.14' und '1.000,50' ein Token sind, '3.' zu '3' + '.' wird und '3rd' ein "
         "Wort ist."),
        numbers,
    ),
    check(
        "contractions",
        ("contractions split as in the Penn Treebank: do + n't, she + 's",
         "Kontraktionen wie in der Penn Treebank getrennt: do + n't, she + 's"),
        ("Before the general word rule, match a word followed by n't (lookahead "
         "\\w+(?=n't\\b)), then n't or one of 's 'm 'd 're 've 'll followed by \\b. Use "
         "re.IGNORECASE for DON'T. An apostrophe that starts no clitic stays inside the word "
         "(O'Brien).",
         "Vor der allgemeinen Wortregel: ein Wort, auf das n't folgt (Lookahead "
         "\\w+(?=n't\\b)), dann n't oder eines von 's 'm 'd 're 've 'll mit folgendem \\b. "
         "re.IGNORECASE deckt DON'T ab. Ein Apostroph, der kein Klitikon beginnt, bleibt im "
         "Wort (O'Brien)."),
        contractions,
    ),
    check(
        "hyphens",
        ("hyphenated words stay whole; dashes and loose hyphens do not join",
         "Wörter mit Bindestrich bleiben ganz; Gedankenstriche und lose Bindestriche verbinden nicht"),
        ("Join \\w runs by single hyphens: \\w+(?:-\\w+)*. A hyphen with no word character "
         "on one side is punctuation, and '--' is one token.",
         "Verbinden Sie \\w-Folgen über einzelne Bindestriche: \\w+(?:-\\w+)*. Ein Bindestrich "
         "ohne Wortzeichen auf einer Seite ist ein Satzzeichen, und '--' ist ein Token."),
        hyphens,
    ),
    check(
        "urls_and_emails",
        ("URLs and e-mail addresses are single tokens, without trailing punctuation",
         "URLs und E-Mail-Adressen sind einzelne Tokens, ohne Satzzeichen am Ende"),
        ("Put the URL and e-mail rules first. A URL must not end in . , ; : ! ? ' ( ) [ ] { }: "
         "end the pattern with a character class that excludes them.",
         "Stellen Sie die Regeln für URL und E-Mail an den Anfang. Eine URL endet nicht auf "
         ". , ; : ! ? ' ( ) [ ] { }: Schließen Sie das Muster mit einer Zeichenklasse ab, die "
         "diese ausschließt."),
        urls_and_emails,
    ),
    check(
        "measure",
        ("measure(stem) equals Porter's m, y included",
         "measure(stem) gleicht Porters m, y eingeschlossen"),
        ("Count the places where a vowel is directly followed by a consonant. y is a vowel "
         "only after a consonant: in 'toy' it is a consonant (m = 1), in 'syzygy' the y's "
         "alternate (m = 2), and a y at the start is a consonant.",
         "Zählen Sie die Stellen, an denen auf einen Vokal direkt ein Konsonant folgt. y ist "
         "nur nach einem Konsonanten ein Vokal: In 'toy' ist es ein Konsonant (m = 1), in "
         "'syzygy' wechseln die y ab (m = 2), und ein y am Anfang ist ein Konsonant."),
        measure_check,
    ),
    check(
        "step1a",
        ("step1a equals NLTK's Porter step 1a on 3,000 words",
         "step1a gleicht NLTKs Porter-Schritt 1a auf 3.000 Wörtern"),
        ("Test the suffixes longest first (sses, ies, ss, s) and let the first match decide: "
         "'caresses' must become 'caress', not 'caresse'. A word of exactly four letters "
         "ending in 'ies' keeps 'ie' (dies -> die).",
         "Prüfen Sie die Endungen von der längsten zur kürzesten (sses, ies, ss, s); die erste "
         "passende entscheidet: 'caresses' wird zu 'caress', nicht 'caresse'. Ein Wort aus "
         "genau vier Buchstaben auf 'ies' behält 'ie' (dies -> die)."),
        step1a_check,
    ),
    check(
        "step1b",
        ("step1b equals NLTK's Porter step 1b on 3,000 words",
         "step1b gleicht NLTKs Porter-Schritt 1b auf 3.000 Wörtern"),
        ("Order matters: 'ied', then 'eed' (which stops the step even when m = 0: feed stays "
         "feed), then 'ed'/'ing' only with a vowel before them. Then the repairs in order: "
         "at/bl/iz + e; a double consonant loses one letter unless it is ll, ss or zz; m = 1 "
         "with a final consonant-vowel-consonant (not w, x, y) gets an e.",
         "Die Reihenfolge zählt: 'ied', dann 'eed' (das den Schritt auch bei m = 0 beendet: "
         "feed bleibt feed), dann 'ed'/'ing' nur mit einem Vokal davor. Danach die Reparaturen "
         "der Reihe nach: at/bl/iz + e; ein Doppelkonsonant verliert einen Buchstaben, außer "
         "ll, ss, zz; bei m = 1 und Konsonant-Vokal-Konsonant am Ende (nicht w, x, y) ein e."),
        step1b_check,
    ),
]  # fmt: skip
