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


# --- input hygiene: the one place where text entering the database is made clean -------------
# C0 control characters other than tab, newline and carriage return, and DEL. A single-line field
# refuses them (they are never typed, only pasted or forged); multi-line text drops them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n?")


class ControlCharacterError(ValueError):
    """A single-line text held a control character (a tab or a line break included)."""


def has_control(text: str, allow_newlines: bool = False) -> bool:
    """Does `text` hold a control character a field of its kind refuses?"""
    if _CONTROL.search(text):
        return True
    return not allow_newlines and any(c in text for c in "\t\n\r")


def clean_line(value: str | None) -> str | None:
    """A single-line text: NFC, trimmed; ControlCharacterError if it holds any control character."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    if has_control(value):
        raise ControlCharacterError(value)
    return value


def clean_text(value: str | None) -> str | None:
    """A multi-line text: NFC, line breaks as \\n, control characters but tab and newline dropped."""
    if value is None:
        return None
    value = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", value))
    return _CONTROL.sub("", value).strip()


def clean_out(value: str) -> str:
    """Text on its way out to a file (CSV, XLSX): no control character but tab and newline.

    Data stored before the input layer existed may hold any; a download must never break on it.
    """
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
