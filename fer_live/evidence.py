"""Action units as evidence for a named expression: which of its prototype AUs the face shows.

A label alone ("happy") asks to be trusted; naming the muscle movements behind it ("AU6 cheek
raiser, AU12 lip corner puller") lets a viewer check it against the face. The window's titles, the
AU panel and the session report all word AUs through this module. Qt-free.
"""

from __future__ import annotations

from collections.abc import Sequence

from fer_live.labels import ACTION_UNITS, AU_COLUMNS, EXPRESSION_AUS, au_number

# An AU at or above this intensity counts as shown; below it the model's reading is too faint to cite.
SUPPORT_THRESHOLD = 0.3
SUPPORT_LIMIT = 3


def au_title(column: str) -> str:
    """`au12` → "AU12 lip corner puller"."""
    return f"AU{au_number(column)} {ACTION_UNITS[column][0]}"


def au_meaning(column: str) -> str:
    """`au12` → "AU12 lip corner puller: the lip corners are pulled up and back (smile)"."""
    return f"{au_title(column)}: {ACTION_UNITS[column][1]}"


def supporting_aus(
    expression: str,
    aus: Sequence[float] | None,
    limit: int = SUPPORT_LIMIT,
    threshold: float = SUPPORT_THRESHOLD,
) -> list[str]:
    """The AU columns of `expression`'s prototype whose intensity in `aus` (AU_COLUMNS order) is at
    least `threshold`, strongest first (ties: the prototype's order), at most `limit`."""
    if aus is None:
        return []
    intensity = dict(zip(AU_COLUMNS, (float(a) for a in aus), strict=True))
    shown = [column for column in EXPRESSION_AUS[expression] if intensity[column] >= threshold]
    return sorted(shown, key=lambda column: -intensity[column])[:limit]


def evidence(
    expression: str,
    aus: Sequence[float] | None,
    limit: int = SUPPORT_LIMIT,
    threshold: float = SUPPORT_THRESHOLD,
) -> str:
    """The supporting AUs of `expression` in words ("AU6 cheek raiser, AU12 lip corner puller"); ""
    when no prototype AU is shown (neutral has none) or the weights read no AUs."""
    return ", ".join(au_title(column) for column in supporting_aus(expression, aus, limit, threshold))


def label_with_evidence(
    expression: str,
    aus: Sequence[float] | None,
    limit: int = SUPPORT_LIMIT,
    threshold: float = SUPPORT_THRESHOLD,
) -> str:
    """The label and its evidence ("happy — AU6 cheek raiser, AU12 lip corner puller"); just the
    label without evidence."""
    shown = evidence(expression, aus, limit, threshold)
    return f"{expression} — {shown}" if shown else expression
