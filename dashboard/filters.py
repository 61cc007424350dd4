"""What list pages share about their filters: a range of days that applies as soon as a day
is picked, and the page number, which starts again at 1 whenever the filters change."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

import streamlit as st


def day_range(
    label: str,
    key: str,
    *,
    first: date | None = None,
    last: date | None = None,
    latest: date | None = None,
) -> tuple[date | None, date | None]:
    """The first and last day to show (either may be unset), as two pickers side by side.

    Each applies as soon as a day is picked: a single range picker waits for both ends and
    for its calendar to close, so a first click did nothing."""
    left, right = st.columns(2)
    start = left.date_input(
        f"{label} from", value=first, max_value=latest, key=f"{key}:from", format="YYYY-MM-DD"
    )
    start = start if isinstance(start, date) else None
    end = right.date_input(
        "to", value=last, min_value=start, max_value=latest, key=f"{key}:to", format="YYYY-MM-DD"
    )
    return start, end if isinstance(end, date) else None


def current_page(key: str, filters: tuple[Hashable, ...]) -> int:
    """The page to show of the list under `key` (its `st.pagination` key is `key:page`).

    New filters are a new list: it starts on its first page, not on the old page number.
    The old number is dropped rather than set to 1: a widget with a value set through Session
    State and a default of its own makes Streamlit log a warning with its stack trace."""
    if st.session_state.get(f"{key}:filters") != filters:
        st.session_state[f"{key}:filters"] = filters
        st.session_state.pop(f"{key}:page", None)
    return max(1, int(st.session_state.get(f"{key}:page", 1)))
