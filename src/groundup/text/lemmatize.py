"""A rule-based English lemmatizer: the dictionary form of a word, given its part of speech.

A lemma is a real word: "studies" -> "study", "went" -> "go", "better" (adjective) -> "good",
where a stemmer gives "studi", "went" and "better". The part of speech matters: "saw" is
"see" as a verb and "saw" as a noun; "meeting" is "meet" as a verb, "meeting" as a noun.

Without a dictionary (WordNet would need a download) the lemmatizer has two parts:
1. Exceptions: irregular forms looked up in a table (went -> go, mice -> mouse).
2. Suffix rules for the regular ones: remove -s/-es/-ies, -ed/-ing, -er/-est, and then
   repair the stem by spelling rules: undouble a final consonant after a short vowel
   (stopp -> stop), or put back a silent e (hop -> hope, creat -> create, argu -> argue).
The repair is a guess: "hoped" and "hopped" need different answers, and a word like
"focused" gets "focuse". The tests measure the accuracy on a gold list and name the misses.
"""

from __future__ import annotations

from groundup.text.porter import ORIGINAL_ALGORITHM, contains_vowel, measure
from groundup.text.porter import ends_cvc as porter_ends_cvc

NOUN, VERB, ADJECTIVE = "n", "v", "a"
VOWELS = frozenset("aeiou")


def _table(text: str) -> dict[str, str]:
    """'lemma: form form ...; lemma: ...' -> {form: lemma}."""
    table = {}
    for entry in text.split(";"):
        lemma, forms = entry.split(":")
        for form in forms.split():
            table[form] = lemma.strip()
    return table


EXCEPTIONS: dict[str, dict[str, str]] = {
    NOUN: _table(
        "man: men; woman: women; child: children; mouse: mice; goose: geese; foot: feet;"
        "tooth: teeth; person: people; ox: oxen; louse: lice; criterion: criteria;"
        "phenomenon: phenomena; analysis: analyses; thesis: theses; crisis: crises;"
        "hypothesis: hypotheses; basis: bases; index: indices; matrix: matrices;"
        "vertex: vertices; appendix: appendices; knife: knives; wife: wives; life: lives;"
        "leaf: leaves; wolf: wolves; half: halves; shelf: shelves; thief: thieves;"
        "calf: calves; self: selves; elf: elves; loaf: loaves; shoe: shoes; toe: toes;"
        "canoe: canoes; movie: movies; cookie: cookies; bus: buses; gas: gases; lens: lenses;"
        "cactus: cacti; fungus: fungi; stimulus: stimuli; radius: radii; nucleus: nuclei;"
        "alumnus: alumni; die: dice"
    ),
    VERB: _table(
        "be: am is are was were been being; have: has had having; do: does did done doing;"
        "go: goes went gone going; get: got gotten; make: made; say: said says; take: took taken;"
        "come: came; see: saw seen seeing; know: knew known; give: gave given; find: found;"
        "think: thought; tell: told; become: became; leave: left; feel: felt; bring: brought;"
        "begin: began begun; keep: kept; hold: held; write: wrote written; stand: stood;"
        "hear: heard; mean: meant; meet: met; run: ran; pay: paid; sit: sat; speak: spoke spoken;"
        "lead: led; grow: grew grown; lose: lost; fall: fell fallen; send: sent; build: built;"
        "understand: understood; draw: drew drawn; break: broke broken; spend: spent;"
        "rise: rose risen; drive: drove driven; buy: bought; wear: wore worn;"
        "choose: chose chosen; eat: ate eaten; swim: swam swum; fly: flew flown flies;"
        "sing: sang sung; drink: drank drunk; sleep: slept; teach: taught; catch: caught;"
        "fight: fought; sell: sold; win: won; throw: threw thrown; forget: forgot forgotten;"
        "hide: hid hidden; shake: shook shaken; die: dies died dying; lie: lies lied lying;"
        "tie: ties tied tying; create: created creating; travel: travelled travelling;"
        "control: controlled controlling; cancel: cancelled cancelling; change: changed changing"
    ),
    ADJECTIVE: _table(
        "good: better best; bad: worse worst; much: more most; little: less least;"
        "far: further furthest farther farthest; old: elder eldest"
    ),
}

# forms that look inflected but are not (they are their own lemma)
UNINFLECTED: dict[str, frozenset[str]] = {
    NOUN: frozenset({
        "series", "species", "sheep", "fish", "deer", "news", "means", "physics", "mathematics",
        "economics", "politics", "ethics", "lens",
    }),
    VERB: frozenset({
        "need", "feed", "seed", "speed", "bleed", "breed", "proceed", "succeed", "exceed",
        "focus", "bias", "process",
    }),
    ADJECTIVE: frozenset({
        "clever", "proper", "other", "eager", "bitter", "tender", "sober", "silver", "upper",
        "inner", "outer", "former", "latter", "honest", "modest", "earnest",
    }),
}  # fmt: skip


def lemmatize(word: str, pos: str = NOUN) -> str:
    """The lemma of a lower-case English word; pos: "n" (noun), "v" (verb), "a" (adjective)."""
    if pos not in (NOUN, VERB, ADJECTIVE):
        raise ValueError(f"pos must be 'n', 'v' or 'a', got {pos!r}")
    if word in EXCEPTIONS[pos]:
        return EXCEPTIONS[pos][word]
    if word in UNINFLECTED[pos] or len(word) <= 3:
        return word
    if pos == NOUN:
        return singular(word)
    if pos == VERB:
        return verb_base(word)
    return positive(word)


def singular(word: str) -> str:
    """boxes -> box, churches -> church, studies -> study, heroes -> hero, cats -> cat."""
    if word.endswith(("ss", "us", "is")):
        return word  # class, status, basis: no plural -s
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("zzes"):
        return word[:-3]  # quizzes -> quiz
    if word.endswith(("sses", "xes", "ches", "shes", "oes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def verb_base(word: str) -> str:
    """studies -> study, fixes -> fix, makes -> make, stopped -> stop, hoping -> hope."""
    if word.endswith("ies") or word.endswith("ied"):
        return word[:-3] + "y"
    if word.endswith("zzes"):
        return word[:-3]
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word if word.endswith(("ss", "us", "is")) else word[:-1]
    if word.endswith("eed"):
        return word[:-1]  # agreed -> agree (the verbs in -eed are listed as uninflected)
    for suffix in ("ed", "ing"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and has_vowel(stem):
            return stem if stem in UNINFLECTED[VERB] else repair(stem)  # focus(ed)
    return word  # "red", "sing", "bring": no vowel before the suffix, so no suffix


def positive(word: str) -> str:
    """happier -> happy, bigger -> big, larger -> large, fastest -> fast."""
    for suffix in ("est", "er"):
        if word.endswith("i" + suffix):
            return word[: -len(suffix) - 1] + "y"
        if word.endswith(suffix) and has_vowel(word[: -len(suffix)]):
            return repair(word[: -len(suffix)])
    return word


# ---------------------------------------------------------------- spelling repairs
# consonants, vowels (y after a consonant) and the measure are Porter's, from porter.py


def has_vowel(stem: str) -> bool:
    return contains_vowel(stem)


def ends_cvc(stem: str) -> bool:
    """consonant, vowel, consonant (not w, x, y): the short vowel of "hop", "stop", "fit"."""
    return porter_ends_cvc(stem, ORIGINAL_ALGORITHM)


def syllables(stem: str) -> int:
    """Vowel runs followed by a consonant: Porter's measure m, a rough syllable count."""
    return measure(stem)


def repair(stem: str) -> str:
    """The stem left by -ed, -ing, -er or -est, made a word again."""
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "aeioulsz":
        # stopp -> stop, bigg -> big; but add, egg, err keep the pair (no short vowel before)
        return stem[:-1] if ends_cvc(stem[:-1]) else stem
    if needs_silent_e(stem):
        return stem + "e"
    return stem


# after one vowel letter, these endings usually lost an e; -en, -er, -it, -et usually did not
LONG_VOWEL_ENDINGS = frozenset({"in", "ir", "ar", "ur", "ut", "id", "ud", "ib"})


def needs_silent_e(stem: str) -> bool:
    last, before = stem[-1], stem[-2] if len(stem) > 1 else ""
    if last in "vcu":
        return True  # lov(e)d, danc(e)d, argu(e)d: English words do not end in v, c or u
    if last == "l" and before not in VOWELS and before not in "lr":
        return True  # handl(e)d, simpl(e)r
    if last == "t" and before == "a" and stem[-3:-2] not in ("e", "o", "a"):
        return True  # relat(e)d, evaluat(e)d; but treat, float
    if stem.endswith("iz") or (last == "s" and before != "s"):
        return True  # organiz(e)d, us(e)d, caus(e)d, pars(e)d
    if last == "g" and (before in VOWELS or before in "dlr"):
        return True  # manag(e)d, judg(e)d, indulg(e)d, charg(e)d
    if stem.endswith(("ang", "eng")) and len(stem) >= 5:
        return True  # arrang(e)d, challeng(e)d; but hang, belong
    if syllables(stem) == 1:
        return ends_cvc(stem)  # hop(e)d, tim(e)d, wid(e)r
    # a long last vowel in a longer word: defin(e)d, compar(e)d, comput(e)d, includ(e)d
    return ends_cvc(stem) and stem[-2:] in LONG_VOWEL_ENDINGS
