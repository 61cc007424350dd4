"""Server time of the Records page with 100,000 tours in one tenant (script reruns).

Run: `.venv/bin/python -m benchmarks.records_page`. Seeds a SQLite file once, times the CSV
export of every tour, then full AppTest reruns of the Records page: first page, a search,
a date range, a late page.
"""

from __future__ import annotations

import os
import random
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from streamlit.testing.v1 import AppTest

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.matching import name_key
from agent_core.store.records import RecordQuery, all_pages
from agent_core.store.sqlite import SqliteStore
from benchmarks.timing import sized
from dashboard.views import records_csv

TOURS = sized(100_000, 500)
RERUNS = sized(10, 1)
ROOT = Path(__file__).resolve().parent.parent


def seed(path: Path) -> None:
    SqliteStore(path).close()  # creates the schema and the demo tenants
    rng = random.Random(7)
    first = date(2027, 1, 1)
    now = datetime.now(UTC).isoformat()
    names = ["Ana Silva", "John Smith", "Zoë Martin", "Li Wei", "Omar Haddad", "Sara Berg"]
    places = ["Paris", "Rome", "Lisbon", "Porto", "Kyoto", "Oslo"]
    customers = [f"{rng.choice(names)} {i}" for i in range(TOURS)]
    rows = [
        (
            str(uuid4()),
            str(DEMO_TENANT_ID),
            customer,
            name_key(customer),
            (first + timedelta(days=rng.randrange(700))).isoformat(),
            rng.choice(places),
            None,
            now,
        )
        for customer in customers
    ]
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO tours (id, tenant_id, customer_name, name_key, tour_date, location,"
            " conversation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    connection.close()


def timed_run(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    assert not app.exception, app.exception
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "records.sqlite3"
        seed(database)
        os.environ["SQLITE_PATH"] = str(database)
        app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        app.run()
        app.switch_page("pages/records.py")
        timed_run(app)
        samples: dict[str, list[float]] = {
            "first page (50 rows)": [],
            "search 'smith' (ASCII)": [],
            "search 'zoë' (non-ASCII)": [],
            "date range (1 month)": [],
            "page 1,000": [],
        }
        for _ in range(RERUNS):
            samples["first page (50 rows)"].append(timed_run(app))
        app.text_input[0].input("smith")
        for _ in range(RERUNS):
            samples["search 'smith' (ASCII)"].append(timed_run(app))
        app.text_input[0].input("zoë")
        for _ in range(RERUNS):
            samples["search 'zoë' (non-ASCII)"].append(timed_run(app))
        app.text_input[0].input("")
        app.date_input[0].set_value((date(2027, 3, 1), date(2027, 3, 31)))
        for _ in range(RERUNS):
            samples["date range (1 month)"].append(timed_run(app))
        app.date_input[0].set_value(())
        app.session_state[f"tours:{DEMO_TENANT_ID}:page"] = 1000
        for _ in range(RERUNS):
            samples["page 1,000"].append(timed_run(app))
        store = SqliteStore(database)
        started = time.perf_counter()
        batches = all_pages(store.list_tours, DEMO_TENANT_ID, RecordQuery(), TOURS)
        exported = "".join(records_csv(batches, UTC))
        export_seconds = time.perf_counter() - started
        store.close()
        print(f"CSV export of all {exported.count(chr(10)) - 1:,} tours: {export_seconds:.1f} s\n")
        print(f"Records page, {TOURS:,} tours, SQLite file; full script rerun (all three tabs) in ms")
        print("| view | median ms | max ms |\n|---|---:|---:|")
        for label, values in samples.items():
            values.sort()
            print(f"| {label} | {values[len(values) // 2]:.0f} | {values[-1]:.0f} |")


if __name__ == "__main__":
    main()
