"""One text analysis for the index and for queries: what a clerk types and what a
document says must come out as the same terms.

    token  →  fold (NFKD, drop accents, lowercase)  →  stop words out  →  Romanian stem

Folding comes BEFORE stemming, and that order is the point: `școala`, `şcoala`
(cedilla, from old keyboards and OCR) and `scoala` (typed without diacritics) all fold
to `scoala` first, so they cannot stem differently. Stemming the accented word first
would not do: the stemmer cuts `autorizație` to `autoriz` but `autorizatie` to
`autorizat`. Elasticsearch's analyzer in `elastic.py` is the same chain
(standard tokenizer, lowercase, asciifolding, our stop list, Snowball Romanian).

The stemmer is pure Python and slow (~80 µs a word), so every token is memoised:
a town hall's vocabulary is a few hundred thousand distinct words.
"""
import re
import unicodedata

import snowballstemmer

ANALYZER_VERSION = "ro-fold-stem-1"   # stored in the index; a change needs a reindex

# Letters and digits; NFC first, so a decomposed ș (s + comma) stays one letter.
TOKEN = re.compile(r"[^\W_]+")
MAX_TOKEN = 60                         # longer runs are OCR noise, not words

# Letters NFKD does not decompose, as Lucene's ASCIIFoldingFilter maps them.
_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l",
                        "ı": "i", "þ": "th", "ð": "d", "Æ": "ae", "Œ": "oe", "Ø": "o",
                        "Đ": "d", "Ł": "l"})

# Romanian function words, folded: indexing them would only make long lists.
# The Elasticsearch mapping uses this very list (after asciifolding).
STOP_WORDS = frozenset("""
a acea aceasta aceasta aceea acei aceia acel acela acele acelea acest acesta aceste
acestea acestei acestia acestui acum adica ai aia aici al ale alt alta alte altfel alti
am apoi ar are as asa asta astea astfel asupra au avea avem aveti azi ca cai care
caror carora carui cat cata cate cati catre ce cea cei cel cele celor ceva chiar
cine cind cit cu cum cumva da daca dar de deci deja deoarece departe desi despre
din dintr dintre doar dupa e ea ei el ele era este eu fara fata fi fie fiecare fiind
foarte fost i ii il imi in intr intre isi iti la le li lor lui ma mai mea mei mele mi
mult multe multi ne nici niste noi nostru nu o oare ori pe pentru peste pina pana
poate prin sa sai sau se si sint sunt spre sub sus ta tale te ti toata toate tot
toti totul tu un una unde unei unele uneori unii unor unui unul va vi voi vor
""".split())

_stemmer = snowballstemmer.stemmer("romanian")
_terms: dict[str, str] = {}            # raw token → term ("" for a stop word)
_CACHE_LIMIT = 500_000


def fold(text: str) -> str:
    """Lowercase ASCII-ish form: ș ş → s, ț ţ → t, ă â → a, î → i, é → e…"""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def term(token: str) -> str:
    """The index term of one token ("" when it is a stop word)."""
    found = _terms.get(token)
    if found is None:
        folded = fold(token)
        found = ("" if folded in STOP_WORDS or len(token) > MAX_TOKEN
                 else _stemmer.stemWord(folded))
        if len(_terms) >= _CACHE_LIMIT:
            _terms.clear()
        _terms[token] = found
    return found


def tokens(text: str):
    """(start, end, raw token) of every word of an NFC text, in order (a token too
    long to be a word has the term "")."""
    for match in TOKEN.finditer(text):
        yield match.start(), match.end(), match.group()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def analyze(text: str) -> list[str]:
    """The terms of a text, in order, stop words left out."""
    known = _terms
    found = [known[raw] if raw in known else term(raw) for raw in TOKEN.findall(nfc(text))]
    return [t for t in found if t]


def query_terms(text: str) -> list[str]:
    """Distinct terms of what a person typed, in the order typed."""
    return list(dict.fromkeys(analyze(text)))
