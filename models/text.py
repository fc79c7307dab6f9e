"""Text helpers for search: fold Polish text to plain lowercase ASCII words.

Unicode decomposition alone leaves "ł" alone, so Polish letters are mapped explicitly;
"Łukasz Kowalski" and "lukasz kowalski" fold to the same words.
"""
import re
import unicodedata
from functools import lru_cache

_POLISH = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ß": "ss", "đ": "d", "Đ": "d"})
_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = text.translate(_POLISH)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower()


def fold(text: str | None) -> str:
    """Lowercase ASCII with diacritics removed: 'Żółć Łąka' -> 'zolc laka'. Names repeat, so it is cached."""
    return _fold(text) if text else ""


def words(text: str | None) -> list[str]:
    """The folded words of `text` (letters and digits only)."""
    return _WORD.findall(fold(text))
