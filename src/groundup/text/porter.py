"""The Porter stemmer (Porter 1980), in the three variants NLTK's PorterStemmer offers.

A stemmer cuts suffixes by rule, without a dictionary: "relational" -> "relat",
"ponies" -> "poni". The stem need not be a word; it only has to be the same for the words
that belong together. The algorithm runs five steps, each a list of (suffix, replacement,
condition) rules of which the first whose suffix matches decides (if its condition fails,
the step leaves the word alone). The conditions look at the *measure* m of the stem: write
the stem as [C](VC)^m[V] with C a run of consonants and V a run of vowels.

Modes, named as in NLTK:
- ORIGINAL_ALGORITHM: the rules of the 1980 paper.
- MARTIN_EXTENSIONS: the changes in Martin Porter's own implementations ("bli" -> "ble",
  "logi" -> "log", words of one or two letters are left alone).
- NLTK_EXTENSIONS (NLTK's default): also a few irregular forms ("dying" -> "die"),
  "ies"/"ied" on four-letter words ("dies" -> "die"), y -> i only after a consonant, "alli"
  before the other step-2 rules, and "fulli" -> "ful".
The tests check every mode against nltk.stem.PorterStemmer word for word.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

ORIGINAL_ALGORITHM = "ORIGINAL_ALGORITHM"
MARTIN_EXTENSIONS = "MARTIN_EXTENSIONS"
NLTK_EXTENSIONS = "NLTK_EXTENSIONS"
MODES = (ORIGINAL_ALGORITHM, MARTIN_EXTENSIONS, NLTK_EXTENSIONS)

VOWELS = frozenset("aeiou")

# NLTK_EXTENSIONS only: forms the rules get wrong, mapped straight to their stem
IRREGULAR = {
    "skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie",
    "news": "news", "innings": "inning", "inning": "inning", "outings": "outing",
    "outing": "outing", "cannings": "canning", "canning": "canning", "howe": "howe",
    "proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
}  # fmt: skip


# ---------------------------------------------------------------- consonants and the measure


def consonant_flags(word: str) -> list[bool]:
    """True where word[i] is a consonant: not a, e, i, o, u, and y only after a vowel or first.

    "toy" -> [T, F, T] (y after a vowel is a consonant); "syzygy" -> [T, F, T, F, T, F].
    """
    flags: list[bool] = []
    for i, char in enumerate(word):
        if char == "y":
            flags.append(i == 0 or not flags[i - 1])
        else:
            flags.append(char not in VOWELS)
    return flags


def measure(stem: str) -> int:
    """m in [C](VC)^m[V]: how many times a vowel run is followed by a consonant run.

    m = 0: "tr", "ee", "tree", "by"; m = 1: "trouble", "oats", "ivy"; m = 2: "troubles".
    """
    flags = consonant_flags(stem)
    return sum(1 for before, after in pairwise(flags) if not before and after)


def contains_vowel(stem: str) -> bool:
    """*v*: the stem has a vowel."""
    return not all(consonant_flags(stem))


def ends_double_consonant(word: str) -> bool:
    """*d: the word ends in two equal consonants ("hopp", "fall")."""
    return len(word) >= 2 and word[-1] == word[-2] and consonant_flags(word)[-1]


def ends_cvc(word: str, mode: str = NLTK_EXTENSIONS) -> bool:
    """*o: the word ends consonant-vowel-consonant and the last is not w, x or y ("hop").

    NLTK also counts a two-letter vowel-consonant word ("ow"), so that "owed" -> "ow" + e.
    """
    flags = consonant_flags(word)
    if len(word) >= 3 and flags[-3] and not flags[-2] and flags[-1]:
        return word[-1] not in "wxy"
    return mode == NLTK_EXTENSIONS and len(word) == 2 and not flags[0] and flags[1]


# ---------------------------------------------------------------- rules

Condition = Callable[[str], bool] | None
Rule = tuple[str, str, Condition]


def m_above(k: int) -> Callable[[str], bool]:
    return lambda stem: measure(stem) > k


def apply_first_rule(word: str, rules: list[Rule]) -> str:
    """The first rule whose suffix matches decides: it rewrites the word if its condition holds
    and otherwise leaves the word as it is (later rules are not tried)."""
    for suffix, replacement, condition in rules:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else word
    return word


STEP1A_RULES: list[Rule] = [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None),
                            ("s", "", None)]  # fmt: skip


def step1a(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """Plurals: caresses -> caress, ponies -> poni, caress -> caress, cats -> cat."""
    if mode == NLTK_EXTENSIONS and len(word) == 4 and word.endswith("ies"):
        return word[:-3] + "ie"  # dies -> die, ties -> tie (not "di", "ti")
    return apply_first_rule(word, STEP1A_RULES)


def step1b(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """Past tense and gerund: agreed -> agree, plastered -> plaster, motoring -> motor, and a
    clean-up on what is left: conflat -> conflate, hopp -> hop, fil -> file."""
    if mode == NLTK_EXTENSIONS and word.endswith("ied"):
        return word[:-3] + ("ie" if len(word) == 4 else "i")  # died -> die, spied -> spi
    if word.endswith("eed"):
        return word[:-1] if measure(word[:-3]) > 0 else word  # agreed -> agree, feed stays
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and contains_vowel(word[: -len(suffix)]):
            stem = word[: -len(suffix)]
            break
    else:
        return word  # "bled", "sing": no vowel before the suffix, so no suffix
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"  # the e comes back so step 4 can see -ate, -ble, -ize
    if ends_double_consonant(stem):
        return stem if stem[-1] in "lsz" else stem[:-1]  # fall, hiss, fizz keep the pair
    if measure(stem) == 1 and ends_cvc(stem, mode):
        return stem + "e"  # fil(ing) -> file
    return stem


def consonant_before_y(stem: str) -> bool:
    return len(stem) > 1 and consonant_flags(stem)[-1]


STEP1C_RULES: dict[str, list[Rule]] = {
    mode: [("y", "i", consonant_before_y if mode == NLTK_EXTENSIONS else contains_vowel)]
    for mode in MODES
}


def step1c(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """y -> i: happy -> happi. The paper asks for a vowel in the stem (sky stays); NLTK asks
    for a consonant just before the y and at least two letters (enjoy stays, spy -> spi)."""
    return apply_first_rule(word, STEP1C_RULES[mode])


STEP2 = [
    ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
    ("izer", "ize"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
    ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"),
    ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"),
    ("iviti", "ive"), ("biliti", "ble"),
]  # fmt: skip


def step2_rules(mode: str) -> list[Rule]:
    rules: list[Rule] = [(suffix, new, m_above(0)) for suffix, new in STEP2]
    if mode == ORIGINAL_ALGORITHM:
        rules[5] = ("abli", "able", m_above(0))  # the paper's rule; Porter later widened it
    if mode == NLTK_EXTENSIONS:
        rules.append(("fulli", "ful", m_above(0)))
        # the l stays with the stem for the measure, so "geologi" -> "geolog" like "philologi"
        rules.append(("logi", "log", lambda stem: measure(stem + "l") > 0))
    if mode == MARTIN_EXTENSIONS:
        rules.append(("logi", "log", m_above(0)))
    return rules


STEP2_RULES = {mode: step2_rules(mode) for mode in MODES}  # built once, used for every word


def step2(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """Double suffixes to single ones, for m > 0: relational -> relate, hopefulness -> hopeful."""
    if mode == NLTK_EXTENSIONS and word.endswith("alli") and measure(word[:-4]) > 0:
        return step2(word[:-4] + "al", mode)  # radicalli -> radical, then the rules again
    return apply_first_rule(word, STEP2_RULES[mode])


STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
         ("ful", ""), ("ness", "")]  # fmt: skip

STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
         "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize"]  # fmt: skip


STEP3_RULES: list[Rule] = [(suffix, new, m_above(0)) for suffix, new in STEP3]
STEP4_RULES: list[Rule] = [
    (suffix, "", m_above(1) if suffix != "ion" else lambda s: measure(s) > 1 and s[-1] in "st")
    for suffix in STEP4
]


def step3(word: str) -> str:
    """-ic-, -full, -ness and friends, for m > 0: triplicate -> triplic, goodness -> good."""
    return apply_first_rule(word, STEP3_RULES)


def step4(word: str) -> str:
    """Drop the last suffix when m > 1: revival -> reviv, adoption -> adopt (-ion needs s or t)."""
    return apply_first_rule(word, STEP4_RULES)


def step5(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """Tidy up: a final e goes if m > 1, or m = 1 and not *o (probate -> probat, rate stays);
    a final ll becomes l if m > 1 (controll -> control)."""
    if word.endswith("e"):
        m = measure(word[:-1])
        if m > 1 or (m == 1 and not ends_cvc(word[:-1], mode)):
            word = word[:-1]
    if word.endswith("ll") and measure(word[:-1]) > 1:
        word = word[:-1]
    return word


def stem(word: str, mode: str = NLTK_EXTENSIONS) -> str:
    """The Porter stem of a word, lower-cased first, as nltk's PorterStemmer(mode).stem(word)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    lowered = word.lower()
    if mode == NLTK_EXTENSIONS and lowered in IRREGULAR:
        return IRREGULAR[lowered]
    if mode != ORIGINAL_ALGORITHM and len(word) <= 2:
        return lowered
    lowered = step1c(step1b(step1a(lowered, mode), mode), mode)
    return step5(step4(step3(step2(lowered, mode))), mode)


class PorterStemmer:
    """`PorterStemmer(mode).stem(word)`, the shape of NLTK's class; results are cached per word."""

    def __init__(self, mode: str = NLTK_EXTENSIONS) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        result = self.cache.get(word)
        if result is None:
            result = self.cache[word] = stem(word, self.mode)
        return result
