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
