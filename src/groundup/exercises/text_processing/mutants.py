"""Planted bugs for the text_processing exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = r'''
import re

TOKEN = re.compile(
    r"""
      (?:https?://|www\.)[^\s<>"]*[^\s<>".,;:!?'()\[\]{}]
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+
    | \d+(?:[.,]\d+)*(?!\w)
    | \w+(?=n't\b)
    | n't\b | '(?:s|m|d|re|ve|ll)\b
    | \w+(?:-\w+|'(?!(?:s|m|d|re|ve|ll)\b)\w+)*
    | \.\.\. | -- | [^\w\s]
    """,
    re.VERBOSE | re.IGNORECASE,
)


def tokenize(text):
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def is_consonant(word, i):
    if word[i] in "aeiou":
        return False
    if word[i] == "y":
        return i == 0 or not is_consonant(word, i - 1)
    return True


def measure(stem):
    pattern = "".join("c" if is_consonant(stem, i) else "v" for i in range(len(stem)))
    return pattern.count("vc")


def has_vowel(stem):
    return any(not is_consonant(stem, i) for i in range(len(stem)))


def ends_cvc(stem):
    if len(stem) == 2:
        return not is_consonant(stem, 0) and is_consonant(stem, 1)
    return (
        len(stem) >= 3
        and is_consonant(stem, len(stem) - 3)
        and not is_consonant(stem, len(stem) - 2)
        and is_consonant(stem, len(stem) - 1)
        and stem[-1] not in "wxy"
    )


def step1a(word):
    if len(word) == 4 and word.endswith("ies"):
        return word[:-1]
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-2]
    if word.endswith("ss"):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def step1b(word):
    if word.endswith("ied"):
        return word[:-1] if len(word) == 4 else word[:-2]
    if word.endswith("eed"):
        return word[:-1] if measure(word[:-3]) > 0 else word
    if word.endswith("ed") and has_vowel(word[:-2]):
        stem = word[:-2]
    elif word.endswith("ing") and has_vowel(word[:-3]):
        stem = word[:-3]
    else:
        return word
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"
    if len(stem) >= 2 and stem[-1] == stem[-2] and is_consonant(stem, len(stem) - 1):
        return stem if stem[-1] in "lsz" else stem[:-1]
    if measure(stem) == 1 and ends_cvc(stem):
        return stem + "e"
    return stem
'''


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "end_offset_inclusive",
        catches="offsets",
        source=_plant("(m.group(), m.start(), m.end())", "(m.group(), m.start(), m.end() - 1)"),
        note="end is the last character instead of one past it",
    ),
    Mutant(
        "split_at_spaces",
        catches="words_and_punctuation",
        source=_plant(
            "    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]",
            r"    return [(m.group(), m.start(), m.end()) for m in re.finditer(r'\S+', text)]",
        ),
        note="whitespace splitting: punctuation stays glued to the words",
    ),
    Mutant(
        "no_decimal_numbers",
        catches="numbers",
        source=_plant(r"    | \d+(?:[.,]\d+)*(?!\w)" + "\n", ""),
        note="no number rule: 3.14 becomes 3 . 14",
    ),
    Mutant(
        "contractions_kept_whole",
        catches="contractions",
        source=_plant(
            "    | \\w+(?=n't\\b)\n    | n't\\b | '(?:s|m|d|re|ve|ll)\\b\n"
            "    | \\w+(?:-\\w+|'(?!(?:s|m|d|re|ve|ll)\\b)\\w+)*\n",
            "    | \\w+(?:-\\w+|'\\w+)*\n",
        ),
        note="don't and she's stay one token",
    ),
    Mutant(
        "contractions_case_sensitive",
        catches="contractions",
        source=_plant("re.VERBOSE | re.IGNORECASE", "re.VERBOSE"),
        note="DON'T and HE'LL are not split",
    ),
    Mutant(
        "hyphens_split",
        catches="hyphens",
        source=_plant(
            "    | \\w+(?:-\\w+|'(?!(?:s|m|d|re|ve|ll)\\b)\\w+)*\n",
            "    | \\w+(?:'(?!(?:s|m|d|re|ve|ll)\\b)\\w+)*\n",
        ),
        note="state-of-the-art becomes seven tokens",
    ),
    Mutant(
        "no_urls",
        catches="urls_and_emails",
        source=_plant(
            '      (?:https?://|www\\.)[^\\s<>"]*[^\\s<>".,;:!?\'()\\[\\]{}]\n    | ', "      "
        ),
        note="no URL rule: https://example.org is cut at every punctuation mark",
    ),
    Mutant(
        "url_keeps_trailing_period",
        catches="urls_and_emails",
        source=_plant(
            '(?:https?://|www\\.)[^\\s<>"]*[^\\s<>".,;:!?\'()\\[\\]{}]',
            '(?:https?://|www\\.)[^\\s<>"]+',
        ),  # fmt: skip
        note="the sentence's final period becomes part of the URL",
    ),
    Mutant(
        "measure_counts_cv",
        catches="measure",
        source=_plant('return pattern.count("vc")', 'return pattern.count("cv")'),
        note="counts consonant-vowel changes: 'tree' gets m = 1",
    ),
    Mutant(
        "y_always_vowel",
        catches="measure",
        source=_plant(
            "        return i == 0 or not is_consonant(word, i - 1)",
            "        return False",
        ),
        note="y is always a vowel: 'toy' gets m = 0, 'yell' m = 1 wrongly",
    ),
    Mutant(
        "step1a_s_rule_first",
        catches="step1a",
        source=_plant(
            '    if word.endswith("sses"):\n        return word[:-2]\n',
            '    if word.endswith("s") and not word.endswith("ss"):\n        return word[:-1]\n'
            '    if word.endswith("sses"):\n        return word[:-2]\n',
        ),
        note="the s rule before sses and ies: ponies -> ponie",
    ),
    Mutant(
        "step1a_without_nltk_ies",
        catches="step1a",
        source=_plant(
            '    if len(word) == 4 and word.endswith("ies"):\n        return word[:-1]\n', ""
        ),
        note="the original rule only: dies -> di",
    ),
    Mutant(
        "step1b_eed_falls_through",
        catches="step1b",
        source=_plant(
            "        return word[:-1] if measure(word[:-3]) > 0 else word\n",
            "        if measure(word[:-3]) > 0:\n            return word[:-1]\n",
        ),
        note="feed goes on to the ed rule and becomes fe",
    ),
    Mutant(
        "step1b_undoubles_ll",
        catches="step1b",
        source=_plant('return stem if stem[-1] in "lsz" else stem[:-1]', "return stem[:-1]"),
        note="falling -> fal, hissing -> his",
    ),
    Mutant(
        "step1b_no_silent_e",
        catches="step1b",
        source=_plant(
            '    if measure(stem) == 1 and ends_cvc(stem):\n        return stem + "e"\n', ""
        ),
        note="filing -> fil instead of file",
    ),
    Mutant(
        "cvc_without_two_letter_rule",
        catches="step1b",
        source=_plant(
            "    if len(stem) == 2:\n        return not is_consonant(stem, 0) and is_consonant(stem, 1)\n",
            "",
        ),
        note="the paper's *o only: owed -> ow instead of NLTK's owe",
    ),
]
