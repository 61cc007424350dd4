"""SQLite's text index takes messages in batches (migration 0024): a search finds every
message however recent, the index catches up every few dozen turns, and edits and deletions
on either side of the batch line leave it consistent with the messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.domain import Tenant
from agent_core.store.conversation_log import ConversationQuery
from agent_core.store.sqlite import UPKEEP_EVERY_TURNS, SqliteStore
from tests.conftest import add_tenant
from tests.store.test_conversation_log import converse


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.sqlite3")
    yield store
    store.close()


@pytest.fixture
def shop(sqlite: SqliteStore) -> Tenant:
    return add_tenant(sqlite, "Text Tours", "Be brief.")


def found(store: SqliteStore, tenant: Tenant, text: str) -> set[str]:
    page = store.search_conversations(tenant.id, ConversationQuery(text=text))
    assert page.total == len(page.rows)
    return {str(c.id) for c in page.rows}


def indexed_up_to(store: SqliteStore) -> int:
    with store._reader() as session:
        return int(session.query("SELECT up_to FROM message_text_indexed")[0]["up_to"])


def index_is_consistent(store: SqliteStore) -> None:
    """The index holds exactly the user and assistant messages up to its line, each with the
    words it has now (FTS5 checks its own structure; the words by searching)."""
    with store._transaction() as session:
        session.execute("INSERT INTO message_text (message_text) VALUES ('integrity-check')")
        session.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, message_text, instance)"
        )
        held = {row["doc"] for row in session.query("SELECT DISTINCT doc FROM temp.terms")}
        expected = {
            row["id"]
            for row in session.query(
                "SELECT id FROM messages WHERE role IN ('user', 'assistant') AND content <> ''"
                " AND id <= (SELECT up_to FROM message_text_indexed)"
            )
        }
        stale = session.query(
            "SELECT count(*) AS n FROM temp.terms t JOIN messages m ON m.id = t.doc"
            " WHERE instr(lower(m.content), t.term) = 0"
        )[0]["n"]
    assert held == expected
    assert stale == 0


def test_a_message_is_found_before_and_after_the_index_takes_it_in_and_only_once(
    sqlite: SqliteStore, shop: Tenant
) -> None:
    before = indexed_up_to(sqlite)
    wanted = converse(sqlite, shop, "Please call Ms Quintana back")
    converse(sqlite, shop, "Nothing to see")
    assert indexed_up_to(sqlite) == before  # not taken in yet
    assert found(sqlite, shop, "quintana") == {wanted}

    sqlite.catch_up()
    assert indexed_up_to(sqlite) > before
    assert found(sqlite, shop, "QUINTANA") == {wanted}
    index_is_consistent(sqlite)


def test_the_index_takes_new_messages_in_every_few_dozen_finished_turns(
    sqlite: SqliteStore, shop: Tenant
) -> None:
    sqlite.catch_up()
    start = indexed_up_to(sqlite)
    for n in range(UPKEEP_EVERY_TURNS - 1):
        converse(sqlite, shop, f"Message number {n}")
    assert indexed_up_to(sqlite) == start
    last = converse(sqlite, shop, "The last of the batch")
    assert indexed_up_to(sqlite) > start
    assert found(sqlite, shop, "last of the batch") == {last}
    index_is_consistent(sqlite)


def test_edits_and_deletions_on_both_sides_of_the_batch_line_keep_the_index_right(
    sqlite: SqliteStore, shop: Tenant
) -> None:
    indexed = converse(sqlite, shop, "Indexed words here")
    sqlite.catch_up()
    newer = converse(sqlite, shop, "Newer words here")
    with sqlite._transaction() as session:
        session.execute(
            "UPDATE messages SET content = 'Changed indexed text' WHERE content = 'Indexed words here'"
        )
        session.execute(
            "UPDATE messages SET content = 'Changed newer text' WHERE content = 'Newer words here'"
        )
    index_is_consistent(sqlite)
    assert found(sqlite, shop, "words here") == set()
    assert found(sqlite, shop, "changed") == {indexed, newer}

    # The last message goes, and the next one takes its id, below the batch line.
    with sqlite._transaction() as session:
        last = session.query("SELECT max(id) AS id FROM messages")[0]["id"]
        session.execute("DELETE FROM messages WHERE id = :id", {"id": last})
    sqlite.catch_up()
    again = converse(sqlite, shop, "Reused id words")
    index_is_consistent(sqlite)
    assert found(sqlite, shop, "reused id") == {again}
    with sqlite._transaction() as session:
        session.execute("DELETE FROM messages WHERE conversation_id = :c", {"c": indexed})
        session.execute("DELETE FROM messages WHERE conversation_id = :c", {"c": newer})
    index_is_consistent(sqlite)
    assert found(sqlite, shop, "changed") == set()
