"""Values people and clients submit, checked as the API document states them.

Numbers are JSON's: `3.0` is the whole number 3 (JSON Schema says so too), `"3"` and `true`
are not numbers. Text is stripped of surrounding whitespace before its length is checked, so JSON
Schema's `minLength`/`maxLength` (which count the blanks) would say something else than the
validator: `text_field` states the rule as one pattern instead, and the two agree exactly.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

BLANK = "\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
"""What pydantic's whitespace stripping removes (Unicode White_Space), as a regular-expression
class. JSON Schema's `\\s` differs: it leaves out U+0085 and takes U+FEFF."""

_NUL = "\\x00"


def text_pattern(min_chars: int, max_chars: int | None) -> str:
    """The pattern of a text without NUL characters that, stripped, holds `min_chars` to
    `max_chars` characters (`None`: no upper limit)."""
    edge = f"[^{BLANK}{_NUL}]"
    top = "" if max_chars is None else str(max_chars - 2)
    if min_chars >= 2:
        core = f"{edge}[^{_NUL}]{{{min_chars - 2},{top}}}{edge}"
    elif max_chars == 1:
        core = edge
    else:
        core = f"{edge}(?:[^{_NUL}]{{0,{top}}}{edge})?"
        if min_chars == 0:
            core = f"(?:{core})?"
    return f"^[{BLANK}]*{core}[{BLANK}]*$"


def string_schemas(schema: dict[str, Any], within: str | None = None) -> list[dict[str, Any]]:
    """The string schemas of a field's JSON Schema (its items' with `within="items"`), in
    each branch of an optional field's `anyOf`: where a `json_schema_extra` documents a rule."""
    branches = [b.get(within) if within else b for b in schema.get("anyOf", [schema])]
    return [b for b in branches if isinstance(b, dict) and b.get("type") == "string"]


def _documented(min_chars: int, max_chars: int | None) -> Any:
    def document(schema: dict[str, Any]) -> None:
        for branch in string_schemas(schema):
            branch.pop("minLength", None)
            branch.pop("maxLength", None)
            branch["pattern"] = text_pattern(min_chars, max_chars)

    return document


def text_field(min_chars: int, max_chars: int | None, **field: Any) -> Any:
    """A pydantic `Field` for stripped text of `min_chars` to `max_chars` characters, documented
    by `text_pattern` (other `Field` arguments pass through). The model must strip whitespace
    (`str_strip_whitespace`) and refuse NUL characters (`StorableText`)."""
    return Field(
        min_length=min_chars,
        max_length=max_chars,
        json_schema_extra=_documented(min_chars, max_chars),
        **field,
    )


def _whole_number(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JSON_INTEGER = BeforeValidator(_whole_number)
"""Reads an integer as JSON carries it (pydantic alone would take `"3"` and `true`, or refuse
`3.0` when strict). Bounds go before it (`Annotated[int, Field(ge=1), JSON_INTEGER]`), where
the document can state them."""
WholeNumber = Annotated[int, JSON_INTEGER]
"""An integer as JSON carries it."""
