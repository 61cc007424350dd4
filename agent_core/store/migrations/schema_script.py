"""schema.sql, made from the PostgreSQL migrations (`vam schema` prints it; `make schema`
writes it), so the schema is written once: in the migrations.

The script is the migrations in order (a Python step as the SQL of what it writes on a new
database: `backfills.ON_A_NEW_DATABASE`), each run by `EXECUTE` inside one `DO` block that
first looks at the database: on a new one it builds everything and records every version
(one transaction: all or nothing); on a database already at this version it does nothing,
so running it twice is safe; on any other database it changes nothing and says to run
`vam migrate`, which also runs the Python backfills that rows made before need.
"""

from __future__ import annotations

from agent_core.store.migrations import CREATE_VERSION_TABLE, latest_version, migrations
from agent_core.store.migrations.backfills import ON_A_NEW_DATABASE

_HEADER = """\
-- voice-assistant-mini: PostgreSQL / Supabase schema, version {version}.
--
-- Generated from agent_core/store/migrations/postgres/ by `vam schema` (`make schema`):
-- do not edit; write a migration. For a new database: paste it into a Supabase project's
-- SQL editor, or run `psql -f schema.sql` on PostgreSQL 15+ (or let `vam migrate` apply
-- the same migrations). On a database already at version {version} it changes nothing; a
-- database of an earlier version is refused, unchanged: upgrade it with `vam migrate`.
--
-- Who may do what:
--   * the app server connects with the service role (Supabase `service_role` key, or the
--     DATABASE_URL owner); that role bypasses RLS, and the app scopes every query by the
--     tenant id of the request itself;
--   * `authenticated` (a signed-in end user or a per-tenant integration) sees and changes
--     only rows of the tenant named by its JWT claim `tenant_id` (or
--     `app_metadata.tenant_id`), enforced by the row-level-security policies the
--     migrations create;
--   * `anon` gets nothing.

DO $schema$
DECLARE
    found integer := 0;
BEGIN
    IF to_regclass('public.schema_migrations') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(max(version), 0) FROM public.schema_migrations' INTO found;
    ELSIF to_regclass('public.tenants') IS NOT NULL THEN
        found := 1;  -- release 0.1.0 recorded no versions
    END IF;
    IF found = {version} THEN
        RAISE NOTICE 'the database is at version {version} already: nothing to do';
        RETURN;
    END IF;
    IF found <> 0 THEN
        RAISE EXCEPTION 'the database is at version %, this schema is version {version}', found
            USING HINT = 'upgrade it with `vam migrate` (this script only builds a new database)';
    END IF;
    -- What is dropped "if exists" on the way is not news on a new database.
    PERFORM set_config('client_min_messages', 'warning', true);
    EXECUTE $version_table$ {version_table} $version_table$;
"""

_STEP = """
    -- {label}
    EXECUTE ${tag}$
{sql}
${tag}$;
    INSERT INTO public.schema_migrations (version, name) VALUES ({version}, '{name}');
"""

_FOOTER = """END
$schema$;
"""


def schema_script() -> str:
    """The PostgreSQL script that builds this release's schema on a new database."""
    steps = migrations("postgres")
    parts = [
        _HEADER.format(version=latest_version("postgres"), version_table=CREATE_VERSION_TABLE["postgres"])
    ]
    for step in steps:
        sql = step.sql.strip("\n")
        if step.backfill is not None:
            if step.version not in ON_A_NEW_DATABASE:
                raise RuntimeError(f"migration {step.label} has a Python step and no SQL for a new database")
            if (seed := ON_A_NEW_DATABASE[step.version]) is not None:
                sql += f"\n\n-- Its Python step on a new database:\n{seed()}"
        tag = f"m{step.version:04d}"
        if any(quote in sql for quote in (f"${tag}$", "$schema$", "$version_table$")):
            raise RuntimeError(f"migration {step.label} uses the dollar quote ${tag}$ the script needs")
        parts.append(_STEP.format(label=step.label, tag=tag, sql=sql, version=step.version, name=step.name))
    parts.append(_FOOTER)
    return "".join(parts)
