"""One WTForms class per use case, shared by full-page and htmx posts."""
from wtforms.fields.choices import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms option objects."""
    return [SelectChoice(value, label) for value, label in pairs]
