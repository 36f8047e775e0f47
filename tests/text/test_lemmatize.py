"""The lemmatizer against a hand-written gold list .

No oracle runs offline (NLTK's WordNetLemmatizer needs a WordNet download), so the measure
is a gold list below: 223 (word, part of speech, lemma) triples written before the rules were
refined, and 48 more written afterwards and never used to change a rule. Measured: 222/223
(99.6 %) on the first, 45/48 (93.8 %) on the held-out list. The thresholds below sit under
those figures so that a rule that breaks several words fails the test; the known misses are
named so that the list of what the rules cannot do stays honest.
"""

from __future__ import annotations

import pytest

from groundup.text.lemmatize import EXCEPTIONS, lemmatize
from groundup.text.porter import stem

# the gold list, written by hand from ordinary English: regular and irregular forms of
# common nouns, verbs and adjectives, with spelling changes (doubling, silent e, y -> i)
# and words that only look inflected
GOLD: list[tuple[str, str, str]] = [
    # nouns: regular plurals
    ("cats", "n", "cat"), ("dogs", "n", "dog"), ("houses", "n", "house"),
    ("boxes", "n", "box"), ("churches", "n", "church"), ("dishes", "n", "dish"),
    ("classes", "n", "class"), ("studies", "n", "study"), ("cities", "n", "city"),
    ("babies", "n", "baby"), ("days", "n", "day"), ("keys", "n", "key"),
    ("heroes", "n", "hero"), ("potatoes", "n", "potato"), ("tomatoes", "n", "tomato"),
    ("photos", "n", "photo"), ("pianos", "n", "piano"), ("buses", "n", "bus"),
    ("quizzes", "n", "quiz"), ("cases", "n", "case"), ("noses", "n", "nose"),
    ("pages", "n", "page"), ("prices", "n", "price"), ("ideas", "n", "idea"),
    ("values", "n", "value"), ("files", "n", "file"), ("tables", "n", "table"),
    ("arguments", "n", "argument"), ("functions", "n", "function"), ("objects", "n", "object"),
    ("matches", "n", "match"), ("taxes", "n", "tax"), ("wishes", "n", "wish"),
    ("ladies", "n", "lady"), ("toys", "n", "toy"), ("words", "n", "word"),
    ("gloves", "n", "glove"), ("lines", "n", "line"), ("sizes", "n", "size"),
    # nouns: irregular or unchanged
    ("mice", "n", "mouse"), ("children", "n", "child"), ("women", "n", "woman"),
    ("men", "n", "man"), ("feet", "n", "foot"), ("teeth", "n", "tooth"),
    ("geese", "n", "goose"), ("people", "n", "person"), ("knives", "n", "knife"),
    ("leaves", "n", "leaf"), ("wolves", "n", "wolf"), ("lives", "n", "life"),
    ("analyses", "n", "analysis"), ("criteria", "n", "criterion"), ("indices", "n", "index"),
    ("sheep", "n", "sheep"), ("series", "n", "series"), ("news", "n", "news"),
    ("status", "n", "status"), ("basis", "n", "basis"), ("glass", "n", "glass"),
    ("virus", "n", "virus"), ("process", "n", "process"), ("meeting", "n", "meeting"),
    ("saw", "n", "saw"), ("shoes", "n", "shoe"), ("fungi", "n", "fungus"),
    ("thieves", "n", "thief"), ("oxen", "n", "ox"), ("species", "n", "species"),
    # verbs: -s forms
    ("runs", "v", "run"), ("makes", "v", "make"), ("fixes", "v", "fix"),
    ("watches", "v", "watch"), ("pushes", "v", "push"), ("misses", "v", "miss"),
    ("tries", "v", "try"), ("plays", "v", "play"), ("uses", "v", "use"),
    ("returns", "v", "return"), ("goes", "v", "go"), ("does", "v", "do"), ("has", "v", "have"),
    # verbs: -ed
    ("walked", "v", "walk"), ("stopped", "v", "stop"), ("hoped", "v", "hope"),
    ("hopped", "v", "hop"), ("studied", "v", "study"), ("played", "v", "play"),
    ("agreed", "v", "agree"), ("loved", "v", "love"), ("danced", "v", "dance"),
    ("argued", "v", "argue"), ("handled", "v", "handle"), ("related", "v", "relate"),
    ("treated", "v", "treat"), ("used", "v", "use"), ("caused", "v", "cause"),
    ("judged", "v", "judge"), ("planned", "v", "plan"), ("added", "v", "add"),
    ("visited", "v", "visit"), ("opened", "v", "open"), ("needed", "v", "need"),
    ("named", "v", "name"), ("fixed", "v", "fix"), ("called", "v", "call"),
    ("failed", "v", "fail"), ("preferred", "v", "prefer"), ("admitted", "v", "admit"),
    ("managed", "v", "manage"), ("parsed", "v", "parse"), ("evaluated", "v", "evaluate"),
    ("raised", "v", "raise"), ("focused", "v", "focus"), ("smiled", "v", "smile"),
    ("replaced", "v", "replace"), ("received", "v", "receive"), ("wanted", "v", "want"),
    ("closed", "v", "close"), ("charged", "v", "charge"), ("continued", "v", "continue"),
    ("arranged", "v", "arrange"), ("belonged", "v", "belong"), ("entered", "v", "enter"),
    ("released", "v", "release"), ("defined", "v", "define"), ("compared", "v", "compare"),
    ("required", "v", "require"), ("listened", "v", "listen"), ("occurred", "v", "occur"),
    ("tested", "v", "test"), ("believed", "v", "believe"),
    # verbs: -ing
    ("running", "v", "run"), ("making", "v", "make"), ("hoping", "v", "hope"),
    ("hopping", "v", "hop"), ("writing", "v", "write"), ("reading", "v", "read"),
    ("sitting", "v", "sit"), ("coming", "v", "come"), ("studying", "v", "study"),
    ("seeing", "v", "see"), ("meeting", "v", "meet"), ("beginning", "v", "begin"),
    ("having", "v", "have"), ("using", "v", "use"), ("dying", "v", "die"), ("lying", "v", "lie"),
    ("singing", "v", "sing"), ("bringing", "v", "bring"), ("taking", "v", "take"),
    ("giving", "v", "give"), ("getting", "v", "get"), ("changing", "v", "change"),
    ("parsing", "v", "parse"), ("returning", "v", "return"), ("computing", "v", "compute"),
    ("typing", "v", "type"), ("calling", "v", "call"), ("filling", "v", "fill"),
    # verbs: irregular
    ("went", "v", "go"), ("was", "v", "be"), ("were", "v", "be"), ("is", "v", "be"),
    ("saw", "v", "see"), ("took", "v", "take"), ("written", "v", "write"),
    ("thought", "v", "think"), ("brought", "v", "bring"), ("ran", "v", "run"),
    ("left", "v", "leave"), ("made", "v", "make"), ("spoken", "v", "speak"),
    ("bought", "v", "buy"), ("caught", "v", "catch"), ("sold", "v", "sell"),
    # verbs that look inflected
    ("sing", "v", "sing"), ("bring", "v", "bring"), ("need", "v", "need"),
    ("exceed", "v", "exceed"), ("process", "v", "process"),
    # adjectives
    ("bigger", "a", "big"), ("biggest", "a", "big"), ("happier", "a", "happy"),
    ("happiest", "a", "happy"), ("larger", "a", "large"), ("nicer", "a", "nice"),
    ("wider", "a", "wide"), ("faster", "a", "fast"), ("fastest", "a", "fast"),
    ("simpler", "a", "simple"), ("smaller", "a", "small"), ("stronger", "a", "strong"),
    ("hotter", "a", "hot"), ("thinner", "a", "thin"), ("later", "a", "late"),
    ("safer", "a", "safe"), ("truer", "a", "true"), ("newer", "a", "new"),
    ("greater", "a", "great"), ("easier", "a", "easy"), ("earliest", "a", "early"),
    ("better", "a", "good"), ("best", "a", "good"), ("worse", "a", "bad"),
    ("worst", "a", "bad"), ("more", "a", "much"), ("less", "a", "little"),
    ("clever", "a", "clever"), ("bitter", "a", "bitter"), ("honest", "a", "honest"),
    ("quieter", "a", "quiet"), ("cheaper", "a", "cheap"), ("closer", "a", "close"),
    ("slower", "a", "slow"), ("older", "a", "old"), ("whiter", "a", "white"),
    ("finest", "a", "fine"), ("wettest", "a", "wet"), ("gentler", "a", "gentle"),
    ("loveliest", "a", "lovely"), ("proper", "a", "proper"), ("sooner", "a", "soon"),
]  # fmt: skip

# Written after the rules were settled and never used to change them: an honest estimate.
HELD_OUT: list[tuple[str, str, str]] = [
    ("bridges", "n", "bridge"), ("foxes", "n", "fox"), ("parties", "n", "party"),
    ("valleys", "n", "valley"), ("echoes", "n", "echo"), ("wives", "n", "wife"),
    ("errors", "n", "error"), ("branches", "n", "branch"), ("scores", "n", "score"),
    ("bodies", "n", "body"), ("kisses", "n", "kiss"), ("hypotheses", "n", "hypothesis"),
    ("jumped", "v", "jump"), ("dropped", "v", "drop"), ("saved", "v", "save"),
    ("copied", "v", "copy"), ("explained", "v", "explain"), ("produced", "v", "produce"),
    ("decided", "v", "decide"), ("included", "v", "include"), ("described", "v", "describe"),
    ("measured", "v", "measure"), ("improved", "v", "improve"), ("shipped", "v", "ship"),
    ("edited", "v", "edit"), ("happened", "v", "happen"), ("removed", "v", "remove"),
    ("counting", "v", "count"), ("driving", "v", "drive"), ("swimming", "v", "swim"),
    ("skiing", "v", "ski"), ("waiting", "v", "wait"), ("joining", "v", "join"),
    ("loading", "v", "load"), ("saving", "v", "save"), ("stored", "v", "store"),
    ("encoded", "v", "encode"), ("deleted", "v", "delete"), ("completed", "v", "complete"),
    ("wrote", "v", "write"), ("gave", "v", "give"), ("taught", "v", "teach"),
    ("darker", "a", "dark"), ("flatter", "a", "flat"), ("riskier", "a", "risky"),
    ("purest", "a", "pure"), ("wisest", "a", "wise"), ("longer", "a", "long"),
]  # fmt: skip


def accuracy(gold: list[tuple[str, str, str]]) -> tuple[float, list[tuple[str, str, str]]]:
    misses = [(word, lemma, lemmatize(word, pos)) for word, pos, lemma in gold
              if lemmatize(word, pos) != lemma]  # fmt: skip
    return 1 - len(misses) / len(gold), misses


def test_gold_list_is_large_and_consistent() -> None:
    assert len(GOLD) >= 150 and len(HELD_OUT) >= 40
    assert len({(w, p) for w, p, _ in GOLD + HELD_OUT}) == len(GOLD) + len(HELD_OUT)


def test_accuracy_on_gold_list() -> None:
    score, misses = accuracy(GOLD)
    assert score >= 0.98, misses
    assert ("required", "require", "requir") in misses  # -uire: u counts as a vowel


def test_accuracy_on_held_out_list() -> None:
    score, misses = accuracy(HELD_OUT)
    assert score >= 0.9, misses
    # -ete and -ode lost their e, but so did -et and -od words that keep no e (budget, period)
    assert {m[0] for m in misses} <= {"encoded", "deleted", "completed"}


def test_rules_alone_without_the_exception_table() -> None:
    regular = [(w, p, lemma) for w, p, lemma in GOLD + HELD_OUT if w not in EXCEPTIONS[p]]
    score, misses = accuracy(regular)
    assert len(regular) >= 180 and score >= 0.95, misses


def test_part_of_speech_changes_the_lemma() -> None:
    assert lemmatize("saw", "v") == "see" and lemmatize("saw", "n") == "saw"
    assert lemmatize("meeting", "v") == "meet" and lemmatize("meeting", "n") == "meeting"
    assert lemmatize("better", "a") == "good"
    with pytest.raises(ValueError, match="pos"):
        lemmatize("cats", "x")


def test_every_exception_is_used_as_written() -> None:
    for pos, table in EXCEPTIONS.items():
        for form, lemma in table.items():
            assert lemmatize(form, pos) == lemma


def test_a_stem_is_not_a_word_but_a_lemma_is() -> None:
    pairs = [("studies", "n"), ("happier", "a"), ("argued", "v"), ("went", "v"), ("mice", "n")]
    assert [stem(w) for w, _ in pairs] == ["studi", "happier", "argu", "went", "mice"]
    assert [lemmatize(w, p) for w, p in pairs] == ["study", "happy", "argue", "go", "mouse"]
