"""What list pages share about their filters: the days a range picker holds, and the page
number, which starts again at 1 whenever the filters change."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

import streamlit as st


def picked_days(value: object) -> list[date]:
    """The days a `st.date_input` range holds so far: none, the first, or both."""
    values = value if isinstance(value, tuple) else (value,)
    return [day for day in values if isinstance(day, date)]


def current_page(key: str, filters: tuple[Hashable, ...]) -> int:
    """The page to show of the list under `key` (its `st.pagination` key is `key:page`).

    New filters are a new list: it starts on its first page, not on the old page number."""
    if st.session_state.get(f"{key}:filters") != filters:
        st.session_state[f"{key}:filters"] = filters
        st.session_state[f"{key}:page"] = 1
    return max(1, int(st.session_state.get(f"{key}:page", 1)))
