"""Guards for free-text notes: no PESEL numbers, and a warning about special-category data (RODO art. 9)."""
import re

from models.text import fold

_ELEVEN_DIGITS = re.compile(r"(?<!\d)(\d[\s-]?){10}\d(?!\d)")
_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)

# Folded word prefixes that usually mean health, religion, politics, ethnicity, sexuality or union
# membership. A hit is a warning, not a refusal: the animator confirms or rewrites.
SENSITIVE_PREFIXES = {
    "health": ("chor", "depresj", "nowotw", "cukrzyc", "niepelnospraw", "szpital", "psychiat", "uzalezni",
               "alkoholi", "ciaz", "hiv", "onkolog", "terapi", "lekarstw", "demencj", "alzheimer"),
    "religion": ("wierzac", "niewierzac", "ateist", "katolik", "katolick", "muzulm", "islam", "zydowsk",
                 "prawoslaw", "protestan", "swiadek jehowy", "religi"),
    "politics": ("pis", "platform", "konfederacj", "lewic", "prawic", "partyjn", "glosowal", "polityczn"),
    "ethnicity": ("romsk", "romow", "narodowosc", "etniczn", "pochodzeni", "rasow"),
    "sexuality": ("gej", "lesbij", "orientacj", "biseksual", "transpl"),
    "union": ("zwiazkow", "zwiazek zawodowy"),
}


def pesel_numbers(text: str | None) -> list[str]:
    """The valid PESEL numbers in `text` (11 digits, spaces or dashes allowed, checksum and date checked)."""
    found = []
    for match in _ELEVEN_DIGITS.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group(0))
        if is_pesel(digits):
            found.append(digits)
    return found


def is_pesel(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdigit():
        return False
    checksum = (10 - sum(int(d) * w for d, w in zip(digits, _WEIGHTS)) % 10) % 10
    if checksum != int(digits[10]):
        return False
    month = int(digits[2:4]) % 20
    day = int(digits[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def sensitive_categories(text: str | None) -> list[str]:
    """Which special categories the text seems to touch (by Polish keyword prefixes)."""
    folded = " " + " ".join(re.findall(r"[a-z0-9]+", fold(text))) + " "
    hits = []
    for category, prefixes in SENSITIVE_PREFIXES.items():
        if any(f" {p}" in folded for p in prefixes):
            hits.append(category)
    return hits
