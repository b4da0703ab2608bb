"""Turning text into search terms: lower case, no accents, no stop words, stemmed.

The same function serves documents and queries, so they meet on the same terms.
Compound words (``acme.example``, ``wi-fi``) are kept whole *and* split, so a domain or
a slug matches as typed and by its parts.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_COMPOUND = re.compile(r"\w+(?:[.\-]\w+)+", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06ff]")

STOP_WORDS = frozenset(
    """
    a about after again all am an and any are as at be been before being but by can could
    did do does doing don for from had has have having he her here hi hello his how i if in
    into is it its just me more my myself no nor not now of off on once only or other our out
    over own please same she should so some such than thank thanks that the their them then
    there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself im ive dont cant
    get got want need help hey u ur pls plz
    au aux avec ce ces dans de des du elle en est et il ils je la le les leur lui ma mais me
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes
    toi ton tu un une vos votre vous bonjour merci svp
    في من على عن الى إلى مع هذا هذه ما لا انا أنا هل و يا
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_ENGLISH = snowballstemmer.stemmer("english")
_ARABIC_STEMMER = snowballstemmer.stemmer("arabic")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if _ARABIC.search(word):
        return str(_ARABIC_STEMMER.stemWord(word))
    return str(_ENGLISH.stemWord(word))


def normalize(text: str) -> str:
    """Lower case without accents (``remboursé`` -> ``rembourse``); Arabic letters stay."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The search terms of ``text``, in order, with repeats (BM25 counts them)."""
    clean = normalize(text)
    found = [stem(w) for w in _WORD.findall(clean) if w not in STOP_WORDS and len(w) > 1]
    found += _COMPOUND.findall(clean)
    return found


def query_words(text: str, limit: int = 16) -> list[str]:
    """The distinct terms of a query (a repeated word does not count twice)."""
    return list(dict.fromkeys(terms(text)))[:limit]


_FRENCH_WORDS = (
    "je j jai suis est les des une mon ma mes pas ne vous nous pour avec sur dans pourquoi "
    "comment quand mais c ça ca plus depuis fois été il elle on qu quoi"
)
_FRENCH = frozenset(_FRENCH_WORDS.split())
_SPANISH_WORDS = (
    "el la los las mi mis un una es no por para con que y se me lo del al cómo como cuando "
    "pero muy está llegó quiero"
)
_SPANISH = frozenset(_SPANISH_WORDS.split())
_EN_WORDS = (
    "the my i is it to and a of for on in was me you your not can why how what with have "
    "has did do dont cant"
)
_EN_FUNCTION_WORDS = frozenset(_EN_WORDS.split())


def guess_language(text: str) -> str:
    """``ar``, ``fr``, ``es`` or ``en``: Arabic script, else the most common function
    words (ties and unknowns are English). It picks the router's weights, nothing else."""
    if _ARABIC.search(text):
        return "ar"
    words = [w.strip("'") for w in re.split(r"[\s'\u2019.,!?;:]+", text.lower()) if w]
    counts = {
        "en": sum(w in _EN_FUNCTION_WORDS for w in words),
        "fr": sum(w in _FRENCH for w in words) + 2 * bool(re.search(r"[éèêàùç]", text)),
        "es": sum(w in _SPANISH for w in words) + 2 * bool(re.search(r"[ñ¿¡]|ó\b|í", text)),
    }
    best = max(counts, key=lambda k: (counts[k], k == "en"))
    return best if counts[best] > 0 else "en"
