"""List English entries that are missing or fuzzy: `python -m app.translations.untranslated`."""
from pathlib import Path

from babel.messages.pofile import read_po

EN = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"


def missing() -> list[str]:
    with EN.open("rb") as fh:
        catalog = read_po(fh)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))]


if __name__ == "__main__":
    for msgid in missing():
        print(repr(msgid))
