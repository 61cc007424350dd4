"""Server time of the conversation log and of analytics with 1,000,000 turns in one tenant
(SQLite file).

Run: `.venv/bin/python -m benchmarks.conversation_log` (`LOG_TURNS` sets the number of turns;
`LOG_STORE=postgres` measures PostgreSQL, in a database of its own on `LOG_POSTGRES_URL`;
seeding a million takes about five minutes: the triggers that keep each conversation's
summary, the full-text index and the daily rollups run for every row, as they do in use).
250,000 conversations of four turns, each turn a user message and a reply; a quarter of the
conversations book a tour, one turn in fifty failed. Times the store's queries behind the
Conversations and Analytics pages (what the pages wait for).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from uuid import uuid4

import psycopg

from agent_core.store.analytics import AnalyticsQuery
from agent_core.store.base import Store
from agent_core.store.conversation_log import ConversationQuery, Outcome
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.postgres import PostgresStore, upgrade_postgres
from agent_core.store.sqlite import SqliteStore
from benchmarks.timing import sized

TURNS = int(os.environ.get("LOG_TURNS", sized(1_000_000, 400)))
TURNS_PER_CONVERSATION = 4
NAMES = ["Ana Silva", "John Smith", "Zoë Martin", "Li Wei", "Omar Haddad", "Sara Berg"]
WORDS = ["tour", "boat", "museum", "Porto", "Paris", "tomorrow", "vegetarian", "family", "refund"]


Rows = tuple[list[tuple[object, ...]], ...]

INSERTS = (
    "INSERT INTO conversations (id, tenant_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
    "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message, reply, model,"
    " prompt_tokens, completion_tokens, model_calls, latency_ms, error, started_at, finished_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)",
    "INSERT INTO tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,"
    " arguments_hash, status, result, error, duration_ms, created_at, model_content)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
)


def seed(path: Path) -> None:
    """The rows into a new SQLite file (migrated first, with the demo tenants)."""
    SqliteStore(path).close()
    with sqlite3.connect(path) as connection:
        for sql, rows in zip(INSERTS, generate(), strict=True):
            connection.executemany(sql, rows)
    connection.close()


def seed_postgres(url: str, batch: int = 100) -> None:
    """The rows into a PostgreSQL database migrated to this release, committed in small
    batches as turns are: within one transaction, the rollup rows every turn updates keep
    every version of themselves until the end, and each update walks them all (2,000 rows a
    transaction made seeding five times slower)."""
    upgrade_postgres(url)
    with psycopg.connect(url) as connection:
        for sql, rows in zip(INSERTS, generate(), strict=True):
            for first in range(0, len(rows), batch):
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany(sql.replace("?", "%s"), rows[first : first + batch])


def generate() -> Rows:
    """Conversations, turns, messages and tool calls of the demo tenant, always the same."""
    rng = random.Random(11)
    tenant = str(DEMO_TENANT_ID)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conversations: list[tuple[object, ...]] = []
    turns: list[tuple[object, ...]] = []
    messages: list[tuple[object, ...]] = []
    calls: list[tuple[object, ...]] = []
    for number in range(TURNS // TURNS_PER_CONVERSATION):
        conversation = str(uuid4())
        began = start + timedelta(seconds=number * 30)
        conversations.append(
            (conversation, tenant, began.isoformat(), (began + timedelta(minutes=3)).isoformat())
        )
        books = number % 4 == 0
        for step in range(TURNS_PER_CONVERSATION):
            turn = str(uuid4())
            at = (began + timedelta(seconds=step * 40)).isoformat()
            failed = rng.random() < 0.02
            said = f"{rng.choice(WORDS)} {rng.choice(WORDS)} for {rng.choice(NAMES)} #{number}-{step}"
            turns.append(
                (
                    turn,
                    tenant,
                    conversation,
                    "failed" if failed else "succeeded",
                    said,
                    None if failed else "Sure.",
                    "m",
                    120,
                    40,
                    1,
                    800.0,
                    "down" if failed else None,
                    at,
                    at,
                )
            )
            messages.append((tenant, conversation, turn, "user", said, at))
            if not failed:
                messages.append((tenant, conversation, turn, "assistant", "Sure, done.", at))
            if books and step == 1:
                chosen = {"name": rng.choice(NAMES), "date": "2027-03-15", "location": "Paris"}
                arguments = json.dumps(chosen, ensure_ascii=False)  # as models send them
                calls.append(
                    (
                        tenant,
                        f"call_{turn}",
                        turn,
                        conversation,
                        "book_tour",
                        arguments,
                        turn,
                        "succeeded",
                        "{}",
                        None,
                        3.0,
                        at,
                        "{}",
                    )
                )
    return conversations, turns, messages, calls


def timed(action: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[-1]


def report(store: Store, where: str) -> None:
    """Time each view of the log and each analytics range; print the table."""
    views = {
        "first page (50 conversations)": ConversationQuery(),
        "page 100": ConversationQuery(offset=99 * 50),
        "outcome: booked": ConversationQuery(outcome=Outcome.BOOKED),
        "outcome: failed": ConversationQuery(outcome=Outcome.FAILED),
        "text search 'refund' (in 61% of conversations)": ConversationQuery(text="refund"),
        "text search 'refund', page 2": ConversationQuery(text="refund", offset=50),
        "text search 'refund' and booked": ConversationQuery(text="refund", outcome=Outcome.BOOKED),
        "text search 'li wei #1000'": ConversationQuery(text="li wei #1000"),
        "text search, rare ('#4711-2')": ConversationQuery(text="#4711-2"),
        "customer 'zoë'": ConversationQuery(customer="zoë"),
        "tool book_tour": ConversationQuery(tool="book_tour"),
    }
    print(f"Conversation log, {TURNS:,} turns in one tenant, {where}; store query in ms")
    print("| view | median ms | max ms | matches |\n|---|---:|---:|---:|")
    for label, query in views.items():
        page = store.search_conversations(DEMO_TENANT_ID, query)
        median, worst = timed(partial(store.search_conversations, DEMO_TENANT_ID, query))
        total = f"more than {page.total:,}" if page.at_least else f"{page.total:,}"
        print(f"| {label} | {median:,.0f} | {worst:,.0f} | {total} |")
    first = datetime(2026, 1, 1, tzinfo=UTC).date()
    ranges = {
        "Analytics, 30 days": AnalyticsQuery(DEMO_TENANT_ID, first, first + timedelta(days=29)),
        "Analytics, a year": AnalyticsQuery(DEMO_TENANT_ID, first, first + timedelta(days=365)),
        "Analytics, every tenant, 30 days": AnalyticsQuery(None, first, first + timedelta(days=29)),
    }
    for label, analytics in ranges.items():
        turns = store.analytics(analytics).turns
        median, worst = timed(partial(store.analytics, analytics))
        print(f"| {label} | {median:,.1f} | {worst:,.1f} | {turns:,} turns |")


def main() -> None:
    """Seed a SQLite file (or, with LOG_STORE=postgres, a new database on the server at
    LOG_POSTGRES_URL, dropped after), then print the table."""
    started = time.perf_counter()
    if os.environ.get("LOG_STORE") == "postgres":
        admin_url = os.environ.get("LOG_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"vam_bench_log_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = admin_url.rsplit("/", 1)[0] + "/" + name
        try:
            seed_postgres(url)
            print(f"seeded {TURNS:,} turns in {time.perf_counter() - started:.0f} s\n")
            store = PostgresStore(url)
            report(store, "PostgreSQL")
            store.close()
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "log.sqlite3"
        seed(database)
        print(f"seeded {TURNS:,} turns in {time.perf_counter() - started:.0f} s\n")
        sqlite = SqliteStore(database)
        report(sqlite, "SQLite file")
        sqlite.close()


if __name__ == "__main__":
    main()
