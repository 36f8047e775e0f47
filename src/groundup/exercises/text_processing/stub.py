"""Exercise text_processing: a word tokenizer with character offsets, and the measure and
steps 1a and 1b of the Porter stemmer.

Write four functions in plain Python (the `re` module is allowed; groundup.text and NLTK
are not). Run `groundup check text-processing` to compare them with the reference
(groundup.text.tokenize and groundup.text.porter, which equals NLTK's PorterStemmer) on
English and German sentences and on a few thousand words.

DE: Übung text_processing: ein Wort-Tokenizer mit Zeichen-Offsets sowie das Maß und die
Schritte 1a und 1b des Porter-Stemmers. Schreiben Sie vier Funktionen in reinem Python
(das Modul `re` ist erlaubt, groundup.text und NLTK nicht). `groundup check text-processing`
vergleicht sie auf englischen und deutschen Sätzen und auf einigen tausend Wörtern mit der
Referenz (groundup.text.tokenize und groundup.text.porter, der NLTKs PorterStemmer gleicht).
"""

from __future__ import annotations

import re  # noqa: F401  (you will want it)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Split text into tokens; each token is (token, start, end) with text[start:end] == token.

    Tokens in text order. Whitespace belongs to no token; every other character belongs to
    exactly one. At each position the first of these rules that matches wins:
      1. a URL: starts with "http://", "https://" or "www.", runs up to the next whitespace
         (or < > "), and does not end in one of . , ; : ! ? ' ( ) [ ] { }
      2. an e-mail address: [\\w.+-]+ @ [\\w-]+ followed by one or more groups . [\\w-]+
      3. a number: digit groups joined by single "." or ",": 42, 3.14, 1,000.50, 1.000,5
         (German); not directly followed by a letter, digit or _ ("3rd" is a word)
      4. the part of a word before "n't": "do" in "don't", "ca" in "can't"
      5. "n't" and the clitics 's 'm 'd 're 've 'll, each a token (any letter case)
      6. a word: runs of \\w joined by single hyphens or by an apostrophe that does not
         start a clitic: "state-of-the-art", "O'Brien", "Straße"
      7. "..." or "--", or else one single character that is neither whitespace nor \\w
    Example: "I don't pay $3.50." -> [("I", 0, 1), ("do", 2, 4), ("n't", 4, 7), ("pay", 8, 11),
             ("$", 12, 13), ("3.50", 13, 17), (".", 17, 18)]

    DE: Zerlegt den Text in Tokens (token, start, ende) mit text[start:ende] == token, in
    Textreihenfolge. Leerraum gehört zu keinem Token, jedes andere Zeichen zu genau einem.
    An jeder Stelle gewinnt die erste passende Regel: URL, E-Mail-Adresse, Zahl mit "." oder
    "," als Trennzeichen, Wortteil vor "n't", die Klitika n't 's 'm 'd 're 've 'll, ein Wort
    (auch mit Bindestrichen), "..." oder "--", sonst ein einzelnes Satzzeichen.
    """
    # TODO: one regular expression with the seven alternatives in this order (re.VERBOSE
    #       and re.IGNORECASE help), then re.finditer: match.group(), match.start(), match.end()
    # TODO: ein regulärer Ausdruck mit den sieben Alternativen in dieser Reihenfolge
    #       (re.VERBOSE und re.IGNORECASE helfen), dann re.finditer
    raise NotImplementedError("TODO: tokenize")


def measure(stem: str) -> int:
    """Porter's measure m of a lower-case stem written as [C](VC)^m[V].

    C is a run of consonants, V a run of vowels. Vowels are a, e, i, o, u, and y when the
    letter before it is a consonant; y at the start or after a vowel is a consonant.
    m = 0: "tr", "ee", "tree", "y", "by"; m = 1: "trouble", "oats", "ivy", "toy";
    m = 2: "troubles", "private", "syzygy".

    DE: Porters Maß m eines Wortstamms der Form [C](VC)^m[V]: wie oft auf eine Folge von
    Vokalen eine Folge von Konsonanten folgt. Vokale sind a, e, i, o, u und y nach einem
    Konsonanten; y am Anfang oder nach einem Vokal ist ein Konsonant.
    """
    # TODO: mark each letter consonant or vowel (mind the y), count vowel -> consonant changes
    # TODO: jeden Buchstaben als Konsonant oder Vokal markieren (Vorsicht bei y), dann die
    #       Wechsel Vokal -> Konsonant zählen
    raise NotImplementedError("TODO: measure")


def step1a(word: str) -> str:
    """Step 1a (plurals), as NLTK's PorterStemmer in its default mode.

    A four-letter word ending in "ies" becomes "...ie" ("dies" -> "die"). Otherwise the first
    matching suffix of these decides:  sses -> ss,  ies -> i,  ss -> ss,  s -> (removed).
    caresses -> caress, ponies -> poni, caress -> caress, cats -> cat.

    DE: Schritt 1a (Plural) wie NLTKs PorterStemmer im Standardmodus: Ein Wort aus vier
    Buchstaben auf "ies" wird zu "...ie"; sonst entscheidet die erste passende Endung:
    sses -> ss, ies -> i, ss -> ss, s -> (entfernt).
    """
    raise NotImplementedError("TODO: step1a")


def step1b(word: str) -> str:
    """Step 1b (-ed, -ing), as NLTK's PorterStemmer in its default mode.

    1. word ends in "ied": four letters -> "...ie" ("died" -> "die"), else "...i" ("spied" -> "spi").
    2. word ends in "eed": "ee" if measure(stem before "eed") > 0 ("agreed" -> "agree"),
       otherwise the word unchanged ("feed"); in both cases stop here.
    3. remove "ed" or (if the word does not end in "ed") "ing" when the rest contains a vowel
       (a, e, i, o, u, or y after a consonant); if neither applies, return the word ("sing").
    4. then repair the rest, first match wins:
       ends in at, bl or iz -> add "e" (conflat -> conflate);
       ends in a double consonant -> drop one (hopp -> hop), but ll, ss and zz stay
       (fall, hiss, fizz) and nothing more is done;
       measure == 1 and ends consonant-vowel-consonant with the last not w, x or y -> add
       "e" (fil -> file). A two-letter rest "vowel consonant" also counts as cvc here
       ("owed" -> "ow" -> "owe").

    DE: Schritt 1b (-ed, -ing) wie NLTKs PorterStemmer im Standardmodus; die vier Regeln
    oben der Reihe nach: "ied", "eed", dann "ed"/"ing" entfernen, wenn der Rest einen Vokal
    enthält, und den Rest reparieren (at/bl/iz + e, Doppelkonsonant kürzen außer ll/ss/zz,
    bei m = 1 und Endung Konsonant-Vokal-Konsonant ein e anhängen).
    """
    raise NotImplementedError("TODO: step1b")
