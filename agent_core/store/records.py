"""Queries over a tenant's business records (tours, notes, contacts): search, date range,
sort and paging, done in the store so a page costs the same with 100 rows or 100,000."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar, overload
from uuid import UUID

from agent_core.domain import Contact, Note, Tour
from agent_core.errors import InvalidInputError
from agent_core.store.rows import Row, contact_from_row, note_from_row, tour_from_row

MAX_PAGE_SIZE = 10_000
"""Largest page a store returns at once (an export's batch; the API allows 100, the
dashboard 250). With OFFSET paging, a 100,000-row export costs the database the sum of the
offsets: 10,000-row batches skip a tenth of what 1,000-row ones did."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows and the total matching rows."""

    rows: list[T]
    total: int
    at_least: bool = False
    """The total is a lower bound: more rows match than were counted."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How one record table may be searched, filtered and sorted."""

    table: str
    search_columns: tuple[str, ...]
    sortable: dict[str, str]
    default_sort: str
    date_column: str
    date_is_timestamp: bool
    nullable: frozenset[str] = frozenset()


TOURS = TableSpec(
    "tours",
    ("customer_name", "location"),
    {
        "tour_date": "tour_date",
        "customer_name": "customer_name",
        "location": "location",
        "created_at": "created_at",
    },
    "tour_date",
    "tour_date",
    date_is_timestamp=False,
)
NOTES = TableSpec(
    "notes",
    ("content", "customer_name"),
    {"created_at": "created_at", "content": "content", "customer_name": "customer_name"},
    "created_at",
    "created_at",
    True,
    nullable=frozenset({"customer_name"}),
)
CONTACTS = TableSpec(
    "contacts",
    ("name", "email", "phone"),
    {
        "name": "name_key",
        "email": "email",
        "phone": "phone",
        "updated_at": "updated_at",
        "created_at": "created_at",
    },
    "name",
    "updated_at",
    date_is_timestamp=True,
    nullable=frozenset({"email", "phone"}),
)


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Which records to show: a case-insensitive search, an inclusive date range, sort and page."""

    search: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = ""
    descending: bool = False
    limit: int = 50
    offset: int = 0

    def checked(self, spec: TableSpec) -> RecordQuery:
        """This query after validation against a table; InvalidInputError when it makes no sense."""
        if self.sort and self.sort not in spec.sortable:
            raise InvalidInputError(
                f"cannot sort {spec.table} by {self.sort!r}; choose one of {sorted(spec.sortable)}"
            )
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidInputError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        if self.offset < 0:
            raise InvalidInputError("offset must not be negative")
        if len(self.search) > 200:
            raise InvalidInputError("search text is limited to 200 characters")
        return self

    def bounds(self, spec: TableSpec) -> tuple[date | datetime | None, date | datetime | None]:
        """Lower (inclusive) and upper bounds for the table's date column.

        For timestamp columns the upper bound is exclusive: midnight UTC after `date_to`.
        """
        if not spec.date_is_timestamp:
            return self.date_from, self.date_to
        return day_bounds(self.date_from, self.date_to)


@overload
def day_bounds(first: date, last: date) -> tuple[datetime, datetime]: ...


@overload
def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]: ...


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Days as instants in UTC: from midnight of `first` (inclusive) to midnight after `last`
    (exclusive); None for an open end."""
    low = datetime.combine(first, time(), UTC) if first else None
    high = datetime.combine(last + timedelta(days=1), time(), UTC) if last else None
    return low, high


DEFAULT = RecordQuery()


def like_pattern(search: str) -> str:
    """A LIKE pattern matching `search` anywhere, with LIKE's wildcards taken literally."""
    escaped = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RecordPages(ABC):
    """`list_tours`, `list_notes` and `list_contacts` for stores that fetch raw rows per table."""

    @abstractmethod
    def _page(self, spec: TableSpec, tenant_id: UUID, query: RecordQuery) -> tuple[list[Row], int]:
        """One page of rows of `spec.table` for the tenant, and how many match in all."""

    def list_tours(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Tour]:
        rows, total = self._page(TOURS, tenant_id, query)
        return Page([tour_from_row(r) for r in rows], total)

    def list_notes(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Note]:
        rows, total = self._page(NOTES, tenant_id, query)
        return Page([note_from_row(r) for r in rows], total)

    def list_contacts(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Contact]:
        rows, total = self._page(CONTACTS, tenant_id, query)
        return Page([contact_from_row(r) for r in rows], total)


def all_pages(
    lister: Callable[[UUID, RecordQuery], Page[T]], tenant_id: UUID, query: RecordQuery, max_rows: int
) -> Iterator[list[T]]:
    """Every row `query` matches (at most `max_rows`), in batches of MAX_PAGE_SIZE, for an
    export; each batch is read only when the one before has been used."""
    offset = 0
    while offset < max_rows:
        page = lister(tenant_id, replace(query, limit=min(MAX_PAGE_SIZE, max_rows - offset), offset=offset))
        if not page.rows:
            return
        yield page.rows
        # By what came back: a server may send fewer rows than asked (PostgREST's max-rows).
        offset += len(page.rows)
        if offset >= page.total:
            return
