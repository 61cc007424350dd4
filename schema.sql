-- voice-assistant-mini: PostgreSQL / Supabase schema, version 29.
--
-- Generated from agent_core/store/migrations/postgres/ by `vam schema` (`make schema`):
-- do not edit; write a migration. For a new database: paste it into a Supabase project's
-- SQL editor, or run `psql -f schema.sql` on PostgreSQL 15+ (or let `vam migrate` apply
-- the same migrations). On a database already at version 29 it changes nothing; a
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
    IF found = 29 THEN
        RAISE NOTICE 'the database is at version 29 already: nothing to do';
        RETURN;
    END IF;
    IF found <> 0 THEN
        RAISE EXCEPTION 'the database is at version %, this schema is version 29', found
            USING HINT = 'upgrade it with `vam migrate` (this script only builds a new database)';
    END IF;
    -- What is dropped "if exists" on the way is not news on a new database.
    PERFORM set_config('client_min_messages', 'warning', true);
    EXECUTE $version_table$ CREATE TABLE IF NOT EXISTS public.schema_migrations ( version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()) $version_table$;

    -- 0001_initial
    EXECUTE $m0001$
-- 0001 (release 0.1.0): tenants, conversations, turns, messages, tool calls, records,
-- prompt versions, events, listener runs and the outbox; roles, row-level security, the
-- Supabase RPC functions and the demo tenants. Kept as it shipped: later changes are later
-- migrations.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN BYPASSRLS;
    END IF;
END
$$;

-- The tenant of the current request, from the JWT claims PostgREST (Supabase) puts in
-- `request.jwt.claims`; NULL when there is none, which matches no row.
CREATE OR REPLACE FUNCTION public.app_tenant_id() RETURNS uuid
LANGUAGE sql STABLE
AS $$
    SELECT NULLIF(
        COALESCE(
            NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'tenant_id',
            NULLIF(current_setting('request.jwt.claims', true), '')::jsonb -> 'app_metadata' ->> 'tenant_id'
        ),
        ''
    )::uuid
$$;

CREATE TABLE IF NOT EXISTS public.tenants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    system_prompt text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS tenants_name_key ON public.tenants (lower(name));

CREATE TABLE IF NOT EXISTS public.conversations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS conversations_tenant_recent ON public.conversations (tenant_id, updated_at);

CREATE TABLE IF NOT EXISTS public.turns (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL,
    conversation_id   uuid NOT NULL,
    status            text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    user_message      text NOT NULL,
    reply             text,
    model             text,
    prompt_tokens     integer,
    completion_tokens integer,
    model_calls       integer,
    latency_ms        double precision,
    error             text,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES public.conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS turns_conversation ON public.turns (tenant_id, conversation_id, started_at);

CREATE TABLE IF NOT EXISTS public.messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    conversation_id uuid NOT NULL,
    turn_id         uuid,
    role            text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         text NOT NULL,
    tool_calls      jsonb,
    tool_call_id    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES public.conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS messages_conversation ON public.messages (tenant_id, conversation_id, id);

CREATE TABLE IF NOT EXISTS public.tool_calls (
    tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    call_id         text NOT NULL,
    turn_id         uuid NOT NULL,
    conversation_id uuid NOT NULL,
    name            text NOT NULL,
    arguments       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    result          jsonb,
    error           text,
    duration_ms     double precision,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX IF NOT EXISTS tool_calls_turn ON public.tool_calls (tenant_id, turn_id);

CREATE TABLE IF NOT EXISTS public.tours (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    customer_name   text NOT NULL,
    tour_date       date NOT NULL,
    location        text NOT NULL,
    conversation_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tours_tenant_date ON public.tours (tenant_id, tour_date, created_at);

CREATE TABLE IF NOT EXISTS public.notes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    content         text NOT NULL,
    conversation_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notes_tenant_recent ON public.notes (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS public.contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    name_key   text NOT NULL,
    email      text,
    phone      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name_key)
);

CREATE TABLE IF NOT EXISTS public.prompt_versions (
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    version    integer NOT NULL,
    prompt     text NOT NULL,
    author     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE IF NOT EXISTS public.events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid NOT NULL UNIQUE,
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_tenant_seq ON public.events (tenant_id, seq);

CREATE TABLE IF NOT EXISTS public.listener_runs (
    event_id    uuid NOT NULL REFERENCES public.events (id) ON DELETE CASCADE,
    listener    text NOT NULL,
    tenant_id   uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    duration_ms double precision,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, listener)
);
CREATE INDEX IF NOT EXISTS listener_runs_status ON public.listener_runs (status, updated_at);

CREATE TABLE IF NOT EXISTS public.outbox (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    event_id   uuid NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, kind)
);
CREATE INDEX IF NOT EXISTS outbox_tenant_recent ON public.outbox (tenant_id, created_at);

-- Row-level security: every table is confined to the caller's tenant.
ALTER TABLE public.tenants       ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.turns         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.messages      ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tool_calls    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tours         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notes         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.contacts      ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.prompt_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.events        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.listener_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.outbox        ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS tenant_reads_itself ON public.tenants;
CREATE POLICY tenant_reads_itself ON public.tenants
    FOR SELECT TO authenticated USING (id = public.app_tenant_id());

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['conversations', 'turns', 'messages', 'tool_calls', 'tours', 'notes', 'contacts',
                       'prompt_versions', 'events', 'listener_runs', 'outbox']
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON public.%I', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON public.%I FOR ALL TO authenticated'
            ' USING (tenant_id = public.app_tenant_id())'
            ' WITH CHECK (tenant_id = public.app_tenant_id())',
            t
        );
    END LOOP;
END
$$;

REVOKE ALL ON public.tenants, public.conversations, public.turns, public.messages,
    public.tool_calls, public.tours, public.notes, public.contacts, public.prompt_versions,
    public.events, public.listener_runs, public.outbox FROM anon;
GRANT SELECT ON public.tenants TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.conversations, public.turns, public.messages,
    public.tool_calls, public.tours, public.notes, public.contacts, public.prompt_versions,
    public.events, public.listener_runs, public.outbox TO authenticated;
GRANT ALL ON public.tenants, public.conversations, public.turns, public.messages,
    public.tool_calls, public.tours, public.notes, public.contacts, public.prompt_versions,
    public.events, public.listener_runs, public.outbox TO service_role;

-- Functions the Supabase store calls over RPC where one request must do several writes
-- together (PostgREST runs each call in one transaction). They take the tenant id as an
-- argument and scope every statement by it; only the service role may call them.

CREATE OR REPLACE FUNCTION public.app_create_tenant(p_id uuid, p_name text, p_prompt text)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tenants (id, name, system_prompt) VALUES (p_id, p_name, p_prompt);
    INSERT INTO public.prompt_versions (tenant_id, version, prompt, author) VALUES (p_id, 1, p_prompt, 'created');
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_id;
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_prompt(p_tenant uuid, p_prompt text, p_author text)
RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'P0002';
    END IF;
    SELECT COALESCE(MAX(version), 0) + 1 INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;

CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'P0002';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message);
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    RETURN v_conversation;
END
$$;

-- Executes a tool call at most once per (tenant, call id): the tool's rows, the call's
-- record and its result message commit together. Returns the record and whether it was a
-- replay of an earlier execution.
CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,
                                   status, result, error, duration_ms)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_outcome->>'status', p_outcome->'result', p_outcome->>'error', (p_outcome->>'duration_ms')::float8)
    ON CONFLICT (tenant_id, call_id) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, phone)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'phone'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (tenant_id, name_key) DO UPDATE SET
            name = excluded.name,
            email = COALESCE(excluded.email, public.contacts.email),
            phone = COALESCE(excluded.phone, public.contacts.phone),
            updated_at = now();
    END IF;
    SELECT * INTO v_record FROM public.tool_calls WHERE tenant_id = p_tenant AND call_id = p_call->>'id';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool',
            CASE WHEN v_record.status = 'succeeded'
                 THEN jsonb_build_object('ok', true, 'result', v_record.result)::text
                 ELSE jsonb_build_object('ok', false, 'error', v_record.error)::text END,
            p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

CREATE OR REPLACE FUNCTION public.app_finish_turn(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_reply text, p_outcome jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply IS NOT NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, p_conversation, p_turn, 'assistant', p_reply);
    END IF;
    UPDATE public.turns SET
        status = p_outcome->>'status',
        reply = p_outcome->>'reply',
        model = p_outcome->>'model',
        prompt_tokens = (p_outcome->>'prompt_tokens')::integer,
        completion_tokens = (p_outcome->>'completion_tokens')::integer,
        model_calls = (p_outcome->>'model_calls')::integer,
        latency_ms = (p_outcome->>'latency_ms')::float8,
        error = p_outcome->>'error',
        finished_at = now()
    WHERE tenant_id = p_tenant AND id = p_turn;
END
$$;

CREATE OR REPLACE FUNCTION public.app_save_events(p_events jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.events (id, tenant_id, name, payload, created_at)
    SELECT (e->>'id')::uuid, (e->>'tenant_id')::uuid, e->>'name', e->'payload', (e->>'created_at')::timestamptz
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n) ORDER BY n;
    INSERT INTO public.listener_runs (event_id, listener, tenant_id, status, attempts)
    SELECT (e->>'id')::uuid, l, (e->>'tenant_id')::uuid, 'pending', 0
    FROM jsonb_array_elements(p_events) e, jsonb_array_elements_text(e->'listeners') l;
END
$$;

CREATE OR REPLACE FUNCTION public.app_finish_listener_run(
    p_tenant uuid, p_event uuid, p_listener text, p_status text, p_attempts integer, p_error text, p_duration float8
) RETURNS void LANGUAGE sql AS $$
    UPDATE public.listener_runs SET status = p_status, attempts = attempts + p_attempts, last_error = p_error,
        duration_ms = p_duration, updated_at = now()
    WHERE tenant_id = p_tenant AND event_id = p_event AND listener = p_listener;
$$;

CREATE OR REPLACE FUNCTION public.app_list_conversations(p_tenant uuid, p_limit integer, p_offset integer)
RETURNS TABLE (id uuid, tenant_id uuid, created_at timestamptz, message_count bigint, last_message text)
LANGUAGE sql STABLE AS $$
    SELECT c.id, c.tenant_id, c.created_at,
        (SELECT count(*) FROM public.messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id),
        COALESCE((SELECT m.content FROM public.messages m WHERE m.tenant_id = c.tenant_id
                  AND m.conversation_id = c.id AND m.role = 'user' ORDER BY m.id DESC LIMIT 1), '')
    FROM public.conversations c WHERE c.tenant_id = p_tenant
    ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset;
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'app_create_tenant(uuid, text, text)', 'app_update_prompt(uuid, text, text)',
        'app_start_turn(uuid, uuid, uuid, uuid, text)', 'app_run_tool_call(uuid, uuid, uuid, jsonb, jsonb, jsonb)',
        'app_finish_turn(uuid, uuid, uuid, text, jsonb)', 'app_save_events(jsonb)',
        'app_finish_listener_run(uuid, uuid, text, text, integer, text, float8)',
        'app_list_conversations(uuid, integer, integer)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC, anon, authenticated', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO service_role', f);
    END LOOP;
END
$$;

-- Demo tenants (same rows as agent_core/store/demo_data.py).
INSERT INTO public.tenants (id, name, system_prompt) VALUES
    ('00000000-0000-0000-0000-000000000001', 'Demo Tours',
     'You are Ava, the booking assistant of Demo Tours, a walking-tour company. Help callers book tours, take notes about their preferences and keep their contact details up to date. Be brief and friendly.'),
    ('00000000-0000-0000-0000-000000000002', 'Harbour Clinic',
     'You are Sam, the front-desk assistant of Harbour Clinic. Book visits, note patient preferences and keep contact details current. Be calm and precise.')
ON CONFLICT (id) DO NOTHING;

INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
SELECT id, 1, system_prompt, 'seed' FROM public.tenants
WHERE id IN ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002')
ON CONFLICT (tenant_id, version) DO NOTHING;
$m0001$;
    INSERT INTO public.schema_migrations (version, name) VALUES (1, 'initial');

    -- 0002_tool_result_text
    EXECUTE $m0002$
-- 0002: keep the exact text the model read as a tool call's result. A replayed call returns
-- these bytes, so the model sees the same text on every backend (jsonb reorders keys, and
-- the Supabase function used to format the text itself). The version table gets the same
-- protection as every other table.

ALTER TABLE public.tool_calls ADD COLUMN model_content text;

-- Calls made before this release: the text is the result message stored with the call.
UPDATE public.tool_calls t SET model_content = COALESCE(
    (SELECT m.content FROM public.messages m
      WHERE m.tenant_id = t.tenant_id AND m.conversation_id = t.conversation_id
        AND m.role = 'tool' AND m.tool_call_id = t.call_id
      ORDER BY m.id LIMIT 1),
    CASE WHEN t.status = 'succeeded' THEN jsonb_build_object('ok', true, 'result', t.result)::text
         ELSE jsonb_build_object('ok', false, 'error', t.error)::text END)
WHERE t.status <> 'running';

ALTER TABLE public.tool_calls ADD CONSTRAINT tool_calls_finished_have_content
    CHECK (status = 'running' OR model_content IS NOT NULL);

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, call_id) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, phone)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'phone'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (tenant_id, name_key) DO UPDATE SET
            name = excluded.name,
            email = COALESCE(excluded.email, public.contacts.email),
            phone = COALESCE(excluded.phone, public.contacts.phone),
            updated_at = now();
    END IF;
    SELECT * INTO v_record FROM public.tool_calls WHERE tenant_id = p_tenant AND call_id = p_call->>'id';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

ALTER TABLE public.schema_migrations ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.schema_migrations FROM anon, authenticated;
GRANT SELECT ON public.schema_migrations TO service_role;
$m0002$;
    INSERT INTO public.schema_migrations (version, name) VALUES (2, 'tool_result_text');

    -- 0003_exactly_once
    EXECUTE $m0003$
-- 0003: exactly once, nothing lost.
-- * A tool call is known by its conversation, its call id and the fingerprint (SHA-256) of its
--   arguments: servers that number calls call_0, call_1… per response no longer make one
--   customer's call replay another's.
-- * A running turn holds a lease that its process renews; an expired lease means the
--   process died, and the turn is closed as failed by the next process. A conversation runs
--   one turn at a time.
-- * Events are written in the transaction of the change they describe (p_events).
-- * Idempotency keys of POST /api/chat, with the request's fingerprint and the response.

ALTER TABLE public.tool_calls ADD COLUMN arguments_hash text;
UPDATE public.tool_calls SET arguments_hash = encode(sha256(convert_to(arguments, 'UTF8')), 'hex');
ALTER TABLE public.tool_calls ALTER COLUMN arguments_hash SET NOT NULL;
ALTER TABLE public.tool_calls DROP CONSTRAINT tool_calls_pkey;
ALTER TABLE public.tool_calls ADD CONSTRAINT tool_calls_pkey
    PRIMARY KEY (tenant_id, conversation_id, call_id, arguments_hash);

ALTER TABLE public.turns ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX turns_running_lease ON public.turns (lease_expires_at) WHERE status = 'running';

CREATE TABLE public.idempotency_keys (
    tenant_id        uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint      text NOT NULL,
    status           text NOT NULL CHECK (status IN ('running', 'done')),
    response_status  integer,
    response         jsonb,
    lease_expires_at timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
ALTER TABLE public.idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.idempotency_keys FOR ALL TO authenticated
    USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.idempotency_keys FROM anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.idempotency_keys TO authenticated;
GRANT ALL ON public.idempotency_keys TO service_role;

DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text);
CREATE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'P0002';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds));
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

DROP FUNCTION public.app_run_tool_call(uuid, uuid, uuid, jsonb, jsonb, jsonb);
CREATE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked for a live booking of the same customer, day and place before this
        -- call; bookings of one day take turns here, and one made since means its answer is
        -- stale: the caller runs the tool again (and finds that booking).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g')) = w->>'customer_key'
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g')) = w->>'location_key'
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, phone)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'phone'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (tenant_id, name_key) DO UPDATE SET
            name = excluded.name,
            email = COALESCE(excluded.email, public.contacts.email),
            phone = COALESCE(excluded.phone, public.contacts.phone),
            updated_at = now();
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

DROP FUNCTION public.app_finish_turn(uuid, uuid, uuid, text, jsonb);
CREATE FUNCTION public.app_finish_turn(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_reply text, p_outcome jsonb, p_events jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply IS NOT NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, p_conversation, p_turn, 'assistant', p_reply);
    END IF;
    UPDATE public.turns SET
        status = p_outcome->>'status',
        reply = p_outcome->>'reply',
        model = p_outcome->>'model',
        prompt_tokens = (p_outcome->>'prompt_tokens')::integer,
        completion_tokens = (p_outcome->>'completion_tokens')::integer,
        model_calls = (p_outcome->>'model_calls')::integer,
        latency_ms = (p_outcome->>'latency_ms')::float8,
        error = p_outcome->>'error',
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;

-- The running process extends the leases of its turns.
CREATE FUNCTION public.app_renew_turns(p_turns uuid[], p_lease_seconds float8)
RETURNS integer LANGUAGE sql AS $$
    WITH renewed AS (
        UPDATE public.turns SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
        WHERE id = ANY(p_turns) AND status = 'running' RETURNING 1
    )
    SELECT count(*)::integer FROM renewed;
$$;

-- Turns whose process stopped renewing their lease: closed as failed, each with its
-- chat.turn.failed event (and a pending run for each listener named), in one transaction.
CREATE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[])
RETURNS TABLE (tenant_id uuid, conversation_id uuid, turn_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    v_turn record;
    v_event uuid;
BEGIN
    FOR v_turn IN
        SELECT t.id, t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now())
        ORDER BY t.started_at FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE public.turns SET status = 'failed', error = p_error, finished_at = now(), lease_expires_at = NULL
        WHERE id = v_turn.id;
        v_event := gen_random_uuid();
        INSERT INTO public.events (id, tenant_id, name, payload)
        VALUES (v_event, v_turn.tenant_id, 'chat.turn.failed', jsonb_build_object(
            'conversation_id', v_turn.conversation_id::text, 'turn_id', v_turn.id::text, 'error', p_error));
        INSERT INTO public.listener_runs (event_id, listener, tenant_id, status, attempts)
        SELECT v_event, l, v_turn.tenant_id, 'pending', 0 FROM unnest(p_listeners) l;
        tenant_id := v_turn.tenant_id;
        conversation_id := v_turn.conversation_id;
        turn_id := v_turn.id;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Pending listener runs of every tenant: all runs of the first p_limit events after an event
-- seq, in event order (the bus picks them up at start and periodically, page by page).
CREATE FUNCTION public.app_pending_runs(p_after_seq bigint, p_limit integer)
RETURNS TABLE (seq bigint, id uuid, tenant_id uuid, name text, payload jsonb, created_at timestamptz,
               listener text)
LANGUAGE sql STABLE AS $$
    SELECT e.seq, e.id, e.tenant_id, e.name, e.payload, e.created_at, r.listener
    FROM public.listener_runs r JOIN public.events e ON e.id = r.event_id
    WHERE r.status = 'pending' AND e.seq IN (
        SELECT DISTINCT e2.seq FROM public.listener_runs r2 JOIN public.events e2 ON e2.id = r2.event_id
        WHERE r2.status = 'pending' AND e2.seq > p_after_seq ORDER BY e2.seq LIMIT p_limit)
    ORDER BY e.seq, r.listener;
$$;

-- An idempotency key presented: claimed (inserted, or taken over from a holder whose lease
-- ran out), running, done with the stored answer, or a mismatch (another request's key).
CREATE FUNCTION public.app_claim_idempotency_key(
    p_tenant uuid, p_key text, p_fingerprint text, p_lease_seconds float8
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_row public.idempotency_keys;
BEGIN
    INSERT INTO public.idempotency_keys (tenant_id, key, fingerprint, status, lease_expires_at)
    VALUES (p_tenant, p_key, p_fingerprint, 'running', now() + make_interval(secs => p_lease_seconds))
    ON CONFLICT (tenant_id, key) DO NOTHING;
    IF FOUND THEN
        RETURN jsonb_build_object('state', 'claimed');
    END IF;
    SELECT * INTO v_row FROM public.idempotency_keys WHERE tenant_id = p_tenant AND key = p_key FOR UPDATE;
    IF v_row.fingerprint <> p_fingerprint THEN
        RETURN jsonb_build_object('state', 'mismatch');
    END IF;
    IF v_row.status = 'done' THEN
        RETURN jsonb_build_object('state', 'done', 'status', v_row.response_status, 'response', v_row.response);
    END IF;
    IF v_row.lease_expires_at < now() THEN
        UPDATE public.idempotency_keys SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
        WHERE tenant_id = p_tenant AND key = p_key;
        RETURN jsonb_build_object('state', 'claimed');
    END IF;
    RETURN jsonb_build_object('state', 'running');
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb)',
        'app_run_tool_call(uuid, uuid, uuid, jsonb, jsonb, jsonb, jsonb)',
        'app_finish_turn(uuid, uuid, uuid, text, jsonb, jsonb)',
        'app_renew_turns(uuid[], float8)',
        'app_fail_expired_turns(text, text[])',
        'app_pending_runs(bigint, integer)',
        'app_claim_idempotency_key(uuid, text, text, float8)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC, anon, authenticated', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO service_role', f);
    END LOOP;
END
$$;
$m0003$;
    INSERT INTO public.schema_migrations (version, name) VALUES (3, 'exactly_once');

    -- 0004_access
    EXECUTE $m0004$
-- 0004: who may do what.
-- * Dashboard users with a role (admin: everything; operator and viewer: their assigned
--   tenants), argon2 password hashes (NULL for single-sign-on-only users), sessions known
--   only by the SHA-256 of their token, and failed sign-ins counted per email for throttling.
-- * API keys managed per tenant (NULL tenant: admin-wide), stored as the SHA-256 of the key.
-- * An append-only audit log: a trigger refuses every UPDATE and DELETE.
-- * The functions that change prompts, tenants, users and keys write their audit row in the
--   same transaction (p_audit).

CREATE TABLE public.app_users (
    id                  uuid PRIMARY KEY,
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_key           text NOT NULL UNIQUE,
    role                text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    password_hash       text,
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz
);

CREATE TABLE public.user_tenants (
    user_id   uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX user_tenants_tenant ON public.user_tenants (tenant_id);

CREATE TABLE public.user_sessions (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES public.app_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user ON public.user_sessions (user_id);

CREATE TABLE public.sign_in_failures (
    email_key      text PRIMARY KEY,
    failures       integer NOT NULL,
    last_failed_at timestamptz NOT NULL
);

CREATE TABLE public.api_keys (
    id           uuid PRIMARY KEY,
    tenant_id    uuid REFERENCES public.tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    prefix       text NOT NULL,
    secret_hash  text NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON public.api_keys (tenant_id);

CREATE TABLE public.audit_log (
    seq        bigserial PRIMARY KEY,
    id         uuid NOT NULL UNIQUE,
    tenant_id  uuid,
    actor      text NOT NULL,
    actor_kind text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    before     jsonb,
    after      jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_seq ON public.audit_log (tenant_id, seq);

CREATE FUNCTION public.app_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'P0001';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON public.audit_log
    FOR EACH ROW EXECUTE FUNCTION public.app_audit_append_only();

ALTER TABLE public.app_users        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_tenants     ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_sessions    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sign_in_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.api_keys         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_log        ENABLE ROW LEVEL SECURITY;
-- Credentials are the service role's alone (no policy); a tenant's integration may read its
-- own audit trail, never write it.
CREATE POLICY tenant_reads_its_audit ON public.audit_log
    FOR SELECT TO authenticated USING (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.app_users, public.user_tenants, public.user_sessions, public.sign_in_failures,
    public.api_keys, public.audit_log FROM anon, authenticated;
GRANT SELECT ON public.audit_log TO authenticated;
GRANT ALL ON public.app_users, public.user_tenants, public.user_sessions, public.sign_in_failures,
    public.api_keys, public.audit_log TO service_role;
GRANT USAGE ON SEQUENCE public.audit_log_seq_seq TO service_role;

CREATE FUNCTION public.app_write_audit(p_audit jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO public.audit_log (id, tenant_id, actor, actor_kind, action, target, before, after, created_at)
    SELECT (p_audit ->> 'id')::uuid, (p_audit ->> 'tenant_id')::uuid, p_audit ->> 'actor',
           p_audit ->> 'actor_kind', p_audit ->> 'action', p_audit ->> 'target',
           p_audit -> 'before', p_audit -> 'after', (p_audit ->> 'created_at')::timestamptz
    WHERE p_audit IS NOT NULL;
$$;

DROP FUNCTION public.app_create_tenant(uuid, text, text);
CREATE FUNCTION public.app_create_tenant(p_id uuid, p_name text, p_prompt text, p_audit jsonb)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tenants (id, name, system_prompt) VALUES (p_id, p_name, p_prompt);
    INSERT INTO public.prompt_versions (tenant_id, version, prompt, author) VALUES (p_id, 1, p_prompt, 'created');
    PERFORM public.app_write_audit(p_audit);
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_id;
END
$$;

DROP FUNCTION public.app_update_prompt(uuid, text, text);
CREATE FUNCTION public.app_update_prompt(p_tenant uuid, p_prompt text, p_author text, p_audit jsonb)
RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'P0002';
    END IF;
    SELECT COALESCE(MAX(version), 0) + 1 INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    PERFORM public.app_write_audit(jsonb_set(p_audit, '{after,version}', to_jsonb(v_version)));
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;

CREATE FUNCTION public.app_replay_event(p_tenant uuid, p_event uuid, p_audit jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_listeners jsonb;
BEGIN
    PERFORM public.app_write_audit(p_audit);
    WITH reset AS (
        UPDATE public.listener_runs SET status = 'pending', updated_at = now()
        WHERE tenant_id = p_tenant AND event_id = p_event AND status = 'failed' RETURNING listener
    )
    SELECT COALESCE(jsonb_agg(listener ORDER BY listener), '[]'::jsonb) INTO v_listeners FROM reset;
    RETURN v_listeners;
END
$$;

CREATE FUNCTION public.app_save_user(p_user jsonb, p_tenants uuid[], p_end_sessions boolean, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_user ->> 'id')::uuid;
BEGIN
    INSERT INTO public.app_users (id, email, email_key, role, password_hash, disabled, created_at, password_changed_at)
    VALUES (v_id, p_user ->> 'email', p_user ->> 'email_key', p_user ->> 'role', p_user ->> 'password_hash',
            (p_user ->> 'disabled')::boolean, (p_user ->> 'created_at')::timestamptz,
            (p_user ->> 'password_changed_at')::timestamptz)
    ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, email_key = EXCLUDED.email_key,
        role = EXCLUDED.role, password_hash = EXCLUDED.password_hash, disabled = EXCLUDED.disabled,
        password_changed_at = EXCLUDED.password_changed_at;
    DELETE FROM public.user_tenants WHERE user_id = v_id AND NOT (tenant_id = ANY (p_tenants));
    INSERT INTO public.user_tenants (user_id, tenant_id) SELECT v_id, unnest(p_tenants) ON CONFLICT DO NOTHING;
    IF p_end_sessions THEN
        DELETE FROM public.user_sessions WHERE user_id = v_id;
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE FUNCTION public.app_save_api_key(p_key jsonb, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.api_keys (id, tenant_id, name, prefix, secret_hash, created_by, created_at, revoked_at)
    VALUES ((p_key ->> 'id')::uuid, (p_key ->> 'tenant_id')::uuid, p_key ->> 'name', p_key ->> 'prefix',
            p_key ->> 'secret_hash', p_key ->> 'created_by', (p_key ->> 'created_at')::timestamptz,
            (p_key ->> 'revoked_at')::timestamptz)
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, revoked_at = EXCLUDED.revoked_at;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE FUNCTION public.app_sign_in_failed(
    p_email_key text, p_now timestamptz, p_window_start timestamptz, p_audit jsonb
)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_failures integer;
BEGIN
    INSERT INTO public.sign_in_failures AS f (email_key, failures, last_failed_at)
    VALUES (p_email_key, 1, p_now)
    ON CONFLICT (email_key) DO UPDATE SET
        failures = CASE WHEN f.last_failed_at < p_window_start THEN 1 ELSE f.failures + 1 END,
        last_failed_at = p_now
    RETURNING failures INTO v_failures;
    PERFORM public.app_write_audit(p_audit);
    RETURN v_failures;
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['app_write_audit(jsonb)', 'app_create_tenant(uuid, text, text, jsonb)',
        'app_update_prompt(uuid, text, text, jsonb)', 'app_replay_event(uuid, uuid, jsonb)',
        'app_save_user(jsonb, uuid[], boolean, jsonb)', 'app_save_api_key(jsonb, jsonb)',
        'app_sign_in_failed(text, timestamptz, timestamptz, jsonb)', 'app_audit_append_only()']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC, anon, authenticated', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO service_role', f);
    END LOOP;
END
$$;
$m0004$;
    INSERT INTO public.schema_migrations (version, name) VALUES (4, 'access');

    -- 0005_booking_lifecycle
    EXECUTE $m0005$
-- 0005: the life of a booking, and each tenant's settings. A tour is booked or cancelled (never deleted), and every
-- cancellation or move is kept in tour_changes: from which date and place, to which, when,
-- and by whom (the agent in a conversation, or an operator). app_run_tool_call applies a
-- tool's changes (p_writes->'tour_changes') only to a booking still as the tool saw it.

ALTER TABLE public.tours ADD COLUMN status text NOT NULL DEFAULT 'booked'
    CHECK (status IN ('booked', 'cancelled'));

CREATE TABLE public.tour_changes (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    tour_id         uuid NOT NULL REFERENCES public.tours (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('cancelled', 'rescheduled')),
    from_date       date NOT NULL,
    from_location   text NOT NULL,
    to_date         date,
    to_location     text,
    by_kind         text NOT NULL CHECK (by_kind IN ('agent', 'operator')),
    by_label        text NOT NULL,
    conversation_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tour_changes_tour ON public.tour_changes (tenant_id, tour_id, created_at);
ALTER TABLE public.tour_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.tour_changes FOR ALL TO authenticated
    USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.tour_changes FROM anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.tour_changes TO authenticated;
GRANT ALL ON public.tour_changes TO service_role;

CREATE FUNCTION public.app_apply_tour_change(p_tenant uuid, p_change jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
-- Cancel or move a booking only as the change saw it, and keep the change in its history;
-- false (nothing written) when the booking is no longer booked there and then.
BEGIN
    UPDATE public.tours SET
        status = CASE WHEN p_change->>'kind' = 'cancelled' THEN 'cancelled' ELSE status END,
        tour_date = COALESCE((p_change->>'to_date')::date, tour_date),
        location = COALESCE(p_change->>'to_location', location)
    WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid AND status = 'booked'
      AND tour_date = (p_change->>'from_date')::date AND location = p_change->>'from_location';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO public.tour_changes (id, tenant_id, tour_id, kind, from_date, from_location, to_date, to_location,
                                     by_kind, by_label, conversation_id, created_at)
    VALUES ((p_change->>'id')::uuid, p_tenant, (p_change->>'tour_id')::uuid, p_change->>'kind',
            (p_change->>'from_date')::date, p_change->>'from_location', (p_change->>'to_date')::date,
            p_change->>'to_location', p_change->>'by_kind', p_change->>'by_label',
            (p_change->>'conversation_id')::uuid, (p_change->>'created_at')::timestamptz);
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked for a live booking of the same customer, day and place before this
        -- call; bookings of one day take turns here, and one made since means its answer is
        -- stale: the caller runs the tool again (and finds that booking).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g')) = w->>'customer_key'
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g')) = w->>'location_key'
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, phone)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'phone'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (tenant_id, name_key) DO UPDATE SET
            name = excluded.name,
            email = COALESCE(excluded.email, public.contacts.email),
            phone = COALESCE(excluded.phone, public.contacts.phone),
            updated_at = now();
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

-- An operator's correction of a booking: the change (only to the booking as the operator
-- saw it), its history row, its audit entry and its events, together.
CREATE FUNCTION public.app_change_tour(p_tenant uuid, p_change jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.tours LANGUAGE plpgsql AS $$
BEGIN
    IF p_change->>'kind' = 'rescheduled' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (p_change->>'to_date'), 0));
        IF EXISTS (
            SELECT FROM public.tours t, public.tours moving
            WHERE moving.tenant_id = p_tenant AND moving.id = (p_change->>'tour_id')::uuid
              AND t.tenant_id = p_tenant AND t.id <> moving.id AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date
              AND lower(regexp_replace(btrim(t.customer_name), '\s+', ' ', 'g'))
                  = lower(regexp_replace(btrim(moving.customer_name), '\s+', ' ', 'g'))
              AND lower(regexp_replace(btrim(t.location), '\s+', ' ', 'g'))
                  = lower(regexp_replace(btrim(p_change->>'to_location'), '\s+', ' ', 'g'))
        ) THEN
            RAISE EXCEPTION 'the customer already has a booking on that day at that place' USING ERRCODE = 'VA422';
        END IF;
    END IF;
    IF NOT public.app_apply_tour_change(p_tenant, p_change) THEN
        RAISE EXCEPTION 'the booking was cancelled or changed in the meantime' USING ERRCODE = 'VA422';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.tours WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid;
END
$$;
REVOKE ALL ON FUNCTION public.app_change_tour(uuid, jsonb, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_change_tour(uuid, jsonb, jsonb, jsonb) TO service_role;

-- An operator's corrections of contacts and notes, each with its audit entry (and, for a
-- contact, its events: the CRM learns of the change), together.
CREATE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name', name_key = p_contact->>'name_key',
        email = p_contact->>'email', phone = p_contact->>'phone', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
END
$$;

CREATE FUNCTION public.app_merge_contacts(p_tenant uuid, p_keep uuid, p_drop uuid, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
DECLARE
    v_drop public.contacts;
BEGIN
    DELETE FROM public.contacts WHERE tenant_id = p_tenant AND id = p_drop AND id <> p_keep RETURNING * INTO v_drop;
    IF v_drop.id IS NULL THEN
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'P0002';
    END IF;
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), phone = COALESCE(phone, v_drop.phone),
        updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;

CREATE FUNCTION public.app_delete_note(p_tenant uuid, p_note uuid, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.notes WHERE tenant_id = p_tenant AND id = p_note;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown note %', p_note USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;
REVOKE ALL ON FUNCTION public.app_update_contact(uuid, jsonb, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_update_contact(uuid, jsonb, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_merge_contacts(uuid, uuid, uuid, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_merge_contacts(uuid, uuid, uuid, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_delete_note(uuid, uuid, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_delete_note(uuid, uuid, jsonb) TO service_role;

-- Per-tenant settings (timezone, date order, enabled tools, what a booking is called, the
-- example hint), validated by the app; {} means every default.
ALTER TABLE public.tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE FUNCTION public.app_update_tenant_settings(p_tenant uuid, p_settings jsonb, p_audit jsonb)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.tenants SET settings = p_settings WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_tenant;
END
$$;
REVOKE ALL ON FUNCTION public.app_update_tenant_settings(uuid, jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_update_tenant_settings(uuid, jsonb, jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.app_apply_tour_change(uuid, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_apply_tour_change(uuid, jsonb) TO service_role;
$m0005$;
    INSERT INTO public.schema_migrations (version, name) VALUES (5, 'booking_lifecycle');

    -- 0006_contact_keys
    EXECUTE $m0006$
-- 0006: one person is one contact. Names match without regard to accents ("José" =
-- "Jose") as well as case and spacing, and an email or phone number already on file finds
-- its contact. The keys are computed by the application (agent_core/store/matching.py) and
-- stored, never recomputed in SQL, so every backend matches alike whatever the database's
-- locale or extensions; the migration's Python step `rekey_contacts` fills the keys of the
-- rows already here. The duplicate checks of concurrent bookings no longer compare names
-- in SQL either: they compare the bookings the application saw with those there are now.

ALTER TABLE public.contacts ADD COLUMN email_key text, ADD COLUMN phone_key text;
CREATE INDEX contacts_email_key ON public.contacts (tenant_id, email_key);
CREATE INDEX contacts_phone_key ON public.contacts (tenant_id, phone_key);

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked at the day's live bookings before this call (`seen`); bookings of
        -- one day take turns here, and one made since means its answer may be stale: the
        -- caller runs the tool again (and finds that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', (w->>'tour_date')::date, w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        -- Contacts likewise: saves of a tenant's contacts take turns, and a contact matching
        -- the details given (`lookup`) that the tool did not see makes it run again.
        PERFORM pg_advisory_xact_lock(hashtextextended('contacts:' || p_tenant, 0))
        WHERE jsonb_array_length(COALESCE(p_writes->'contacts', '[]'::jsonb)) > 0;
        IF EXISTS (
            SELECT FROM public.contacts c, jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
            WHERE c.tenant_id = p_tenant
              AND (c.name_key = w->'lookup'->>'name_key' OR c.email_key = w->'lookup'->>'email_key'
                   OR c.phone_key = w->'lookup'->>'phone_key')
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? c.id::text)
        ) THEN
            RAISE EXCEPTION 'a contact with these details was just saved' USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'email_key',
               w->>'phone', w->>'phone_key'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (id) DO UPDATE SET
            -- A name left as it is keeps its key (a contact kept apart by migration 6 keeps its own).
            name = excluded.name,
            name_key = CASE WHEN public.contacts.name = excluded.name THEN public.contacts.name_key
                            ELSE excluded.name_key END,
            email = excluded.email,
            email_key = excluded.email_key, phone = excluded.phone, phone_key = excluded.phone_key,
            updated_at = now()
        WHERE public.contacts.tenant_id = p_tenant;
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

CREATE OR REPLACE FUNCTION public.app_change_tour(p_tenant uuid, p_change jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.tours LANGUAGE plpgsql AS $$
BEGIN
    IF p_change->>'kind' = 'rescheduled' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (p_change->>'to_date'), 0));
        -- The app checked the day's live bookings (`seen`) for one the move would duplicate;
        -- one booked since it looked means it must look again.
        IF EXISTS (
            SELECT FROM public.tours t
            WHERE t.tenant_id = p_tenant AND t.id <> (p_change->>'tour_id')::uuid AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date
              AND NOT (COALESCE(p_change->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'that day''s bookings changed in the meantime: try again' USING ERRCODE = 'VA422';
        END IF;
    END IF;
    IF NOT public.app_apply_tour_change(p_tenant, p_change) THEN
        RAISE EXCEPTION 'the booking was cancelled or changed in the meantime' USING ERRCODE = 'VA422';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.tours WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid;
END
$$;
CREATE OR REPLACE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name',
        name_key = CASE WHEN name = p_contact->>'name' THEN name_key ELSE p_contact->>'name_key' END,
        email = p_contact->>'email', email_key = p_contact->>'email_key',
        phone = p_contact->>'phone', phone_key = p_contact->>'phone_key', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
END
$$;

CREATE OR REPLACE FUNCTION public.app_merge_contacts(p_tenant uuid, p_keep uuid, p_drop uuid, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
DECLARE
    v_drop public.contacts;
BEGIN
    DELETE FROM public.contacts WHERE tenant_id = p_tenant AND id = p_drop AND id <> p_keep RETURNING * INTO v_drop;
    IF v_drop.id IS NULL THEN
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'P0002';
    END IF;
    -- A detail and its match key are null together, so they are taken over together.
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), email_key = COALESCE(email_key, v_drop.email_key),
        phone = COALESCE(phone, v_drop.phone), phone_key = COALESCE(phone_key, v_drop.phone_key), updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;
$m0006$;
    INSERT INTO public.schema_migrations (version, name) VALUES (6, 'contact_keys');

    -- 0007_prompt_safety
    EXECUTE $m0007$
-- 0007: safe prompt changes. An edit is a draft (one per tenant) until it is published; each
-- tenant keeps scenarios (specs validated by the app) and the runs of them. Publishing a
-- prompt consumes the draft holding the same text (app_update_prompt). The Python step
-- `seed_demo_scenarios` gives the demo tenants their scenarios.

CREATE TABLE public.prompt_drafts (
    tenant_id    uuid PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
    prompt       text NOT NULL,
    base_version integer NOT NULL,
    author       text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.scenarios (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    name       text NOT NULL,
    spec       jsonb NOT NULL,
    author     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE public.scenario_runs (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    target     text NOT NULL,
    model      text NOT NULL,
    passed     boolean NOT NULL,
    summary    text NOT NULL,
    report     jsonb NOT NULL,
    started_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scenario_runs_recent ON public.scenario_runs (tenant_id, created_at DESC);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['prompt_drafts', 'scenarios', 'scenario_runs'] LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON public.%I FOR ALL TO authenticated'
            ' USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id())', t);
        EXECUTE format('REVOKE ALL ON public.%I FROM anon', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO authenticated', t);
        EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_prompt(p_tenant uuid, p_prompt text, p_author text, p_audit jsonb)
RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'P0002';
    END IF;
    SELECT COALESCE(MAX(version), 0) + 1 INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    PERFORM public.app_write_audit(jsonb_set(p_audit, '{after,version}', to_jsonb(v_version)));
    DELETE FROM public.prompt_drafts WHERE tenant_id = p_tenant AND prompt = p_prompt;
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;

CREATE FUNCTION public.app_save_prompt_draft(p_tenant uuid, p_draft jsonb, p_audit jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.prompt_drafts (tenant_id, prompt, base_version, author, updated_at)
    VALUES (p_tenant, p_draft->>'prompt', (p_draft->>'base_version')::integer,
            p_draft->>'author', (p_draft->>'updated_at')::timestamptz)
    ON CONFLICT (tenant_id) DO UPDATE SET prompt = EXCLUDED.prompt, base_version = EXCLUDED.base_version,
        author = EXCLUDED.author, updated_at = EXCLUDED.updated_at;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE FUNCTION public.app_discard_prompt_draft(p_tenant uuid, p_audit jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.prompt_drafts WHERE tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM public.app_write_audit(p_audit);
    RETURN true;
END
$$;

CREATE FUNCTION public.app_save_scenarios(p_tenant uuid, p_scenarios jsonb, p_audit jsonb) RETURNS void
LANGUAGE plpgsql AS $$
-- All or none: a name taken by another of the tenant's scenarios fails the whole save (23505).
BEGIN
    INSERT INTO public.scenarios (id, tenant_id, name, spec, author, updated_at)
    SELECT (s->>'id')::uuid, p_tenant, s->>'name', s->'spec', s->>'author', (s->>'updated_at')::timestamptz
    FROM jsonb_array_elements(p_scenarios) AS s
    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, spec = EXCLUDED.spec, author = EXCLUDED.author,
        updated_at = EXCLUDED.updated_at
    WHERE public.scenarios.tenant_id = p_tenant;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE FUNCTION public.app_delete_scenario(p_tenant uuid, p_scenario uuid, p_audit jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.scenarios WHERE tenant_id = p_tenant AND id = p_scenario;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown scenario %', p_scenario USING ERRCODE = 'P0002';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'app_save_prompt_draft(uuid, jsonb, jsonb)', 'app_discard_prompt_draft(uuid, jsonb)',
        'app_save_scenarios(uuid, jsonb, jsonb)', 'app_delete_scenario(uuid, uuid, jsonb)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC, anon, authenticated', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.%s TO service_role', f);
    END LOOP;
END
$$;

-- Its Python step on a new database:
INSERT INTO public.scenarios (id, tenant_id, name, spec, author, updated_at)
SELECT s.id::uuid, s.tenant_id::uuid, s.name, s.spec::jsonb, 'seed', now() FROM (VALUES
    ('f3519438-c0c2-57ed-ab24-410b39f870d8', '00000000-0000-0000-0000-000000000001', 'Greets without using a tool', '{"description": "The seed''s first curl example: a greeting names the business and writes nothing.", "steps": [{"say": "Hello, what can you help me with?", "expect": {"no_tools": true, "reply_contains": ["Demo Tours", "book"]}}]}'),
    ('e7838461-625f-5cde-81b7-5585f77b7b3b', '00000000-0000-0000-0000-000000000001', 'Books a tour from one complete message', '{"description": "The seed''s book_tour example, with a date a month ahead so it never lies in the past.", "steps": [{"say": "I want to book a tour for John Smith on {today+30} in Paris.", "expect": {"tools": [{"name": "book_tour", "arguments": {"name": {"equals": "John Smith"}, "date": {"days_from_today": 30}, "location": {"equals": "Paris"}}}], "reply_contains": ["booked"]}}]}'),
    ('5bf7fc4a-1d1a-579e-a341-804514739fa0', '00000000-0000-0000-0000-000000000001', 'Takes a note about the caller', '{"description": "The seed''s take_note example.", "steps": [{"say": "Please note that the client prefers morning tours and vegetarian meals.", "expect": {"tools": [{"name": "take_note", "arguments": {"content": {"contains": "morning tours and vegetarian meals"}}}], "not_tools": ["book_tour"]}}]}'),
    ('65d63d5f-237b-5771-a840-b4720e08b288', '00000000-0000-0000-0000-000000000001', 'Updates a contact''s email and phone', '{"description": "The seed''s update_contact_info example.", "steps": [{"say": "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.", "expect": {"tools": [{"name": "update_contact_info", "arguments": {"name": {"equals": "Sarah Jones"}, "email": {"equals": "sarah@example.com"}, "phone": {"contains": "555"}}}]}}]}'),
    ('66e159bf-03bb-5546-a0f3-323392bc8e6e', '00000000-0000-0000-0000-000000000001', 'Confirms a date said in words before booking', '{"description": "Ask rather than guess: ''tomorrow'' is confirmed, then booked for the right day.", "steps": [{"say": "Book a tour for Maria Lopez tomorrow in Lisbon.", "expect": {"no_tools": true, "reply_contains": ["confirm"]}}, {"say": "Yes, that''s right.", "expect": {"tools": [{"name": "book_tour", "arguments": {"name": {"equals": "Maria Lopez"}, "date": {"days_from_today": 1}}}]}}]}'),
    ('cc013e0c-5e39-520f-89a1-153b54cf90f6', '00000000-0000-0000-0000-000000000002', 'Greets without using a tool', '{"description": "The seed''s first curl example: a greeting names the business and writes nothing.", "steps": [{"say": "Hello, what can you help me with?", "expect": {"no_tools": true, "reply_contains": ["Harbour Clinic", "book"]}}]}'),
    ('e010de9f-a886-50e3-9233-c67f17a16291', '00000000-0000-0000-0000-000000000002', 'Books a tour from one complete message', '{"description": "The seed''s book_tour example, with a date a month ahead so it never lies in the past.", "steps": [{"say": "I want to book a tour for John Smith on {today+30} in Paris.", "expect": {"tools": [{"name": "book_tour", "arguments": {"name": {"equals": "John Smith"}, "date": {"days_from_today": 30}, "location": {"equals": "Paris"}}}], "reply_contains": ["booked"]}}]}'),
    ('29fdf90e-e27d-55e2-be63-53903579b14b', '00000000-0000-0000-0000-000000000002', 'Takes a note about the caller', '{"description": "The seed''s take_note example.", "steps": [{"say": "Please note that the client prefers morning tours and vegetarian meals.", "expect": {"tools": [{"name": "take_note", "arguments": {"content": {"contains": "morning tours and vegetarian meals"}}}], "not_tools": ["book_tour"]}}]}'),
    ('0d8bf8ad-a5c9-51a0-835e-bda4594e4da9', '00000000-0000-0000-0000-000000000002', 'Updates a contact''s email and phone', '{"description": "The seed''s update_contact_info example.", "steps": [{"say": "Update contact info for Sarah Jones: email is sarah@example.com, phone is +1-555-0123.", "expect": {"tools": [{"name": "update_contact_info", "arguments": {"name": {"equals": "Sarah Jones"}, "email": {"equals": "sarah@example.com"}, "phone": {"contains": "555"}}}]}}]}'),
    ('c63c8a0b-1a08-5b57-bc14-9184bafad2d7', '00000000-0000-0000-0000-000000000002', 'Confirms a date said in words before booking', '{"description": "Ask rather than guess: ''tomorrow'' is confirmed, then booked for the right day.", "steps": [{"say": "Book a tour for Maria Lopez tomorrow in Lisbon.", "expect": {"no_tools": true, "reply_contains": ["confirm"]}}, {"say": "Yes, that''s right.", "expect": {"tools": [{"name": "book_tour", "arguments": {"name": {"equals": "Maria Lopez"}, "date": {"days_from_today": 1}}}]}}]}')
) AS s (id, tenant_id, name, spec)
WHERE EXISTS (SELECT FROM public.tenants t WHERE t.id = s.tenant_id::uuid)
ON CONFLICT DO NOTHING;
$m0007$;
    INSERT INTO public.schema_migrations (version, name) VALUES (7, 'prompt_safety');

    -- 0008_activity_log
    EXECUTE $m0008$
-- 0008: the conversation log and analytics. A failed turn can be retried: the retry is a new turn that
-- answers the stored user message again (it stores no second copy of it) and names the turn
-- it retries. The log is searched by app_search_conversations and analytics computed by
-- app_analytics (the Supabase store's queries).

ALTER TABLE public.turns ADD COLUMN retry_of uuid;
-- Where each turn came from and who started it; older turns are 'unknown'.
ALTER TABLE public.turns ADD COLUMN channel text NOT NULL DEFAULT 'unknown'
    CHECK (channel IN ('dashboard', 'api', 'cli', 'unknown'));
ALTER TABLE public.turns ADD COLUMN started_by text;
-- Of latency_ms, the model's and the tools' time; the rest is the store and the loop.
ALTER TABLE public.turns ADD COLUMN model_ms double precision;
ALTER TABLE public.turns ADD COLUMN tools_ms double precision;

-- Analytics read a tenant's turns and tool calls by time.
CREATE INDEX turns_tenant_started ON public.turns (tenant_id, started_at);
CREATE INDEX tool_calls_tenant_created ON public.tool_calls (tenant_id, created_at);

DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb);
CREATE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'P0002';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    IF p_retry_of IS NOT NULL THEN
        -- A retry answers the stored message again: only the conversation's last turn, failed.
        IF NOT EXISTS (SELECT FROM (SELECT id, status, user_message FROM public.turns
                                    WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                                    ORDER BY started_at DESC, id DESC LIMIT 1) AS latest
                       WHERE latest.id = p_retry_of AND latest.status = 'failed'
                         AND latest.user_message = p_message) THEN
            RAISE EXCEPTION 'only the last message of a conversation can be retried, once it failed'
                USING ERRCODE = 'VA422';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at, retry_of,
                              channel, started_by)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;
REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text) TO service_role;

-- The conversation log for the Supabase store: the query of agent_core/store/conversation_log.py.
-- p_text and p_customer are LIKE patterns of case-folded text; every filter is optional.
CREATE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    WITH matching AS (
        SELECT c.* FROM public.conversations c
        WHERE c.tenant_id = p_tenant
          AND (p_text IS NULL OR EXISTS (
              SELECT 1 FROM public.messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
                AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
          AND (p_customer IS NULL OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
          AND (p_channel IS NULL OR COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = c.tenant_id
                                     AND f.conversation_id = c.id ORDER BY f.started_at, f.id LIMIT 1),
                                    'unknown') = p_channel)
          AND (p_low IS NULL OR c.created_at >= p_low)
          AND (p_high IS NULL OR c.created_at < p_high)
          AND (p_tool IS NULL OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = p_tool))
          AND (p_outcome IS NULL OR CASE p_outcome
              WHEN 'failed' THEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = c.tenant_id
                                         AND t.conversation_id = c.id AND t.status = 'failed'
                                         AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                                                         AND r.conversation_id = t.conversation_id AND r.retry_of = t.id))
              ELSE EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id
                           AND k.conversation_id = c.id AND k.status = 'succeeded'
                           AND k.name = CASE p_outcome WHEN 'booked' THEN 'book_tour'
                               WHEN 'cancelled' THEN 'cancel_tour' WHEN 'moved' THEN 'reschedule_tour'
                               WHEN 'noted' THEN 'take_note' WHEN 'updated' THEN 'update_contact_info' END)
          END)
    ), page AS (
        SELECT c.*, count(*) OVER () AS total FROM matching c
        ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset
    )
    SELECT c.id, c.created_at, c.updated_at,
        COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = c.tenant_id AND f.conversation_id = c.id
                  ORDER BY f.started_at, f.id LIMIT 1), 'unknown'),
        COALESCE((SELECT f.started_by FROM public.turns f WHERE f.tenant_id = c.tenant_id
                  AND f.conversation_id = c.id ORDER BY f.started_at, f.id LIMIT 1), ''),
        COALESCE((SELECT m.content FROM public.messages m WHERE m.tenant_id = c.tenant_id
                  AND m.conversation_id = c.id AND m.role = 'user' ORDER BY m.id LIMIT 1), ''),
        (SELECT count(*) FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id),
        (SELECT count(*) FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id
         AND t.status = 'failed' AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
             AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)),
        (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0)::bigint
         FROM public.turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id),
        (SELECT COALESCE(sum(t.latency_ms), 0) FROM public.turns t WHERE t.tenant_id = c.tenant_id
         AND t.conversation_id = c.id),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'book_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'cancel_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'reschedule_tour' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'take_note' AND k.status = 'succeeded'),
        EXISTS (SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id
                AND k.name = 'update_contact_info' AND k.status = 'succeeded'),
        c.total
    FROM page c ORDER BY c.updated_at DESC, c.id;
$$;
REVOKE ALL ON FUNCTION public.app_search_conversations(uuid, text, text, timestamptz, timestamptz, text, text, text, integer, integer)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_search_conversations(uuid, text, text, timestamptz, timestamptz, text, text, text, integer, integer)
    TO service_role;

-- Analytics for the Supabase store: the queries of agent_core/store/analytics.py. p_tenant
-- NULL means every tenant (the app allows it to admins only). Percentiles are the value at
-- rank ceil(p x n), as there (percentile_disc).
CREATE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH t AS (
        SELECT * FROM public.turns
        WHERE started_at >= p_low AND started_at < p_high AND (p_tenant IS NULL OR tenant_id = p_tenant)
    ), k AS (
        SELECT * FROM public.tool_calls
        WHERE created_at >= p_low AND created_at < p_high AND (p_tenant IS NULL OR tenant_id = p_tenant)
    )
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                   count(DISTINCT conversation_id) AS conversations, count(*) AS turns,
                   sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed_turns,
                   sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0)) AS tokens
            FROM t GROUP BY 1) d), '[]'::jsonb),
        'tools', COALESCE((SELECT jsonb_agg(x ORDER BY x.name) FROM (
            SELECT name, count(*) AS calls, sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
            FROM k GROUP BY name) x), '[]'::jsonb),
        'models', COALESCE((SELECT jsonb_agg(m) FROM (
            SELECT COALESCE(model, 'unknown') AS model, sum(prompt_tokens) AS prompt,
                   sum(completion_tokens) AS completion
            FROM t GROUP BY 1) m), '[]'::jsonb),
        'turn_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY latency_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms))
            FROM t WHERE latency_ms IS NOT NULL HAVING count(*) > 0),
        'tool_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY duration_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms))
            FROM k WHERE duration_ms IS NOT NULL HAVING count(*) > 0),
        'model_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY model_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY model_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY model_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0),
        'tools_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY tools_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY tools_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY tools_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0),
        'store_latency', (SELECT jsonb_build_object(
            '50', percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms),
            '90', percentile_disc(0.9) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms),
            '99', percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms - model_ms - tools_ms))
            FROM t WHERE model_ms IS NOT NULL AND tools_ms IS NOT NULL HAVING count(*) > 0)
    );
$$;
REVOKE ALL ON FUNCTION public.app_analytics(uuid, timestamptz, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_analytics(uuid, timestamptz, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION public.app_finish_turn(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_reply text, p_outcome jsonb, p_events jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply IS NOT NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, p_conversation, p_turn, 'assistant', p_reply);
    END IF;
    UPDATE public.turns SET
        status = p_outcome->>'status',
        reply = p_outcome->>'reply',
        model = p_outcome->>'model',
        prompt_tokens = (p_outcome->>'prompt_tokens')::integer,
        completion_tokens = (p_outcome->>'completion_tokens')::integer,
        model_calls = (p_outcome->>'model_calls')::integer,
        latency_ms = (p_outcome->>'latency_ms')::float8,
        error = p_outcome->>'error',
        model_ms = (p_outcome->>'model_ms')::float8,
        tools_ms = (p_outcome->>'tools_ms')::float8,
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;
$m0008$;
    INSERT INTO public.schema_migrations (version, name) VALUES (8, 'activity_log');

    -- 0009_conversation_summary
    EXECUTE $m0009$
-- 0009: each conversation keeps its summary — turns, unanswered messages, tokens, duration,
-- channel and first sender, first message, and what it did — recomputed by triggers from the
-- conversation's own rows, so the log lists and filters a tenant's conversations without
-- reading their turns (every store, Supabase's RPCs included, gets it from the same triggers).
-- A trigram index (pg_trgm, in the `extensions` schema as on Supabase) finds the messages
-- that contain a text.

ALTER TABLE public.conversations ADD COLUMN turn_count integer NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN unanswered integer NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN duration_ms double precision NOT NULL DEFAULT 0;
ALTER TABLE public.conversations ADD COLUMN channel text NOT NULL DEFAULT 'unknown';
ALTER TABLE public.conversations ADD COLUMN started_by text;
ALTER TABLE public.conversations ADD COLUMN first_message text NOT NULL DEFAULT '';
ALTER TABLE public.conversations ADD COLUMN booked boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN cancelled boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN moved boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN noted boolean NOT NULL DEFAULT false;
ALTER TABLE public.conversations ADD COLUMN updated boolean NOT NULL DEFAULT false;

-- The tool filters read a tenant's calls of one tool, or all of its calls' arguments.
CREATE INDEX tool_calls_tenant_name ON public.tool_calls (tenant_id, name, conversation_id);
CREATE INDEX tool_calls_conversation ON public.tool_calls (tenant_id, conversation_id);

-- Recomputed, not incremented: a trigger that runs twice, or a turn closed by the reaper,
-- still leaves exactly what the turns say.
CREATE FUNCTION public.app_summarise_conversation(p_tenant uuid, p_conversation uuid)
RETURNS void LANGUAGE sql AS $$
    UPDATE public.conversations c SET
        turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens,
        duration_ms = s.duration_ms,
        channel = COALESCE((SELECT f.channel FROM public.turns f WHERE f.tenant_id = p_tenant
                            AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM public.turns f WHERE f.tenant_id = p_tenant
                      AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1)
    FROM (
        SELECT count(*) AS turn_count,
               count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
                   SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                   AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
               COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
               COALESCE(sum(t.latency_ms), 0) AS duration_ms
        FROM public.turns t WHERE t.tenant_id = p_tenant AND t.conversation_id = p_conversation
    ) s
    WHERE c.tenant_id = p_tenant AND c.id = p_conversation;
$$;
REVOKE ALL ON FUNCTION public.app_summarise_conversation(uuid, uuid) FROM PUBLIC, anon, authenticated;

CREATE FUNCTION public.app_turns_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.app_summarise_conversation(NEW.tenant_id, NEW.conversation_id);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_turns_summarise() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER turns_summarise
    AFTER INSERT OR UPDATE OF status, prompt_tokens, completion_tokens, latency_ms, retry_of ON public.turns
    FOR EACH ROW EXECUTE FUNCTION public.app_turns_summarise();

CREATE FUNCTION public.app_tool_calls_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'succeeded' THEN
        UPDATE public.conversations SET
            booked = booked OR NEW.name = 'book_tour',
            cancelled = cancelled OR NEW.name = 'cancel_tour',
            moved = moved OR NEW.name = 'reschedule_tour',
            noted = noted OR NEW.name = 'take_note',
            updated = updated OR NEW.name = 'update_contact_info'
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_tool_calls_summarise() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER tool_calls_summarise AFTER INSERT OR UPDATE OF status ON public.tool_calls
    FOR EACH ROW EXECUTE FUNCTION public.app_tool_calls_summarise();

CREATE FUNCTION public.app_messages_first_user_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role = 'user' THEN
        UPDATE public.conversations SET first_message = NEW.content
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id AND first_message = '';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_messages_first_user_message() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER messages_first_user_message AFTER INSERT ON public.messages
    FOR EACH ROW EXECUTE FUNCTION public.app_messages_first_user_message();

-- The conversations that exist: the same summary, computed once.
UPDATE public.conversations c SET
    turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens, duration_ms = s.duration_ms,
    channel = s.channel, started_by = s.started_by
FROM (
    SELECT t.tenant_id, t.conversation_id, count(*) AS turn_count,
           count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
               SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
               AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
           COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
           COALESCE(sum(t.latency_ms), 0) AS duration_ms,
           (array_agg(t.channel ORDER BY t.started_at, t.id))[1] AS channel,
           (array_agg(t.started_by ORDER BY t.started_at, t.id))[1] AS started_by
    FROM public.turns t GROUP BY t.tenant_id, t.conversation_id
) s
WHERE c.tenant_id = s.tenant_id AND c.id = s.conversation_id;
UPDATE public.conversations c SET first_message = f.content
FROM (
    SELECT DISTINCT ON (m.tenant_id, m.conversation_id) m.tenant_id, m.conversation_id, m.content
    FROM public.messages m WHERE m.role = 'user' ORDER BY m.tenant_id, m.conversation_id, m.id
) f
WHERE c.tenant_id = f.tenant_id AND c.id = f.conversation_id;
UPDATE public.conversations c SET
    booked = k.booked, cancelled = k.cancelled, moved = k.moved, noted = k.noted, updated = k.updated
FROM (
    SELECT tenant_id, conversation_id,
           bool_or(name = 'book_tour') AS booked, bool_or(name = 'cancel_tour') AS cancelled,
           bool_or(name = 'reschedule_tour') AS moved, bool_or(name = 'take_note') AS noted,
           bool_or(name = 'update_contact_info') AS updated
    FROM public.tool_calls WHERE status = 'succeeded' GROUP BY tenant_id, conversation_id
) k
WHERE c.tenant_id = k.tenant_id AND c.id = k.conversation_id;

-- Messages that contain a text: trigrams of their case-folded content.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;
CREATE INDEX messages_content_trigrams ON public.messages USING gin (lower(content) extensions.gin_trgm_ops);

-- The log for the Supabase store, now on the summary (the query of conversation_log.py).
CREATE OR REPLACE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    SELECT c.id, c.created_at, c.updated_at, c.channel, COALESCE(c.started_by, ''), c.first_message,
           c.turn_count::bigint, c.unanswered::bigint, c.tokens, c.duration_ms,
           c.booked, c.cancelled, c.moved, c.noted, c.updated, count(*) OVER ()
    FROM public.conversations c
    WHERE c.tenant_id = p_tenant
      AND (p_text IS NULL OR c.id IN (
          SELECT m.conversation_id FROM public.messages m WHERE m.tenant_id = p_tenant
            AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
      AND (p_customer IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant
            AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
      AND (p_tool IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.name = p_tool))
      AND (p_channel IS NULL OR c.channel = p_channel)
      AND (p_low IS NULL OR c.created_at >= p_low)
      AND (p_high IS NULL OR c.created_at < p_high)
      AND (p_outcome IS NULL OR CASE p_outcome
          WHEN 'failed' THEN c.unanswered > 0 WHEN 'booked' THEN c.booked WHEN 'cancelled' THEN c.cancelled
          WHEN 'moved' THEN c.moved WHEN 'noted' THEN c.noted WHEN 'updated' THEN c.updated END)
    ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset;
$$;
$m0009$;
    INSERT INTO public.schema_migrations (version, name) VALUES (9, 'conversation_summary');

    -- 0010_daily_rollups
    EXECUTE $m0010$
-- 0010: analytics read daily rollups instead of every turn. Triggers add each turn and tool
-- call to its tenant's UTC day when it starts and when it ends; latencies go into log-scale
-- buckets, 16 per doubling (a bucket's value is within 2.2% of any latency in it), so a
-- percentile over any range is read from a few hundred rows whatever the number of turns.
-- app_analytics (the Supabase store's query) now reads the rollups too.
--
-- A latency's bucket is floor(log2(greatest(ms, 0.01)) * 16): 23.083120654223414 = 16 / ln 2.
-- Lock order: a conversation's row (the summary triggers, named *_summarise) before its
-- tenant's day (these, named *_tally, fire after them), and the reaper locks the
-- conversations of the turns it closes first.

CREATE TABLE public.activity_days (
    tenant_id     uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day           date NOT NULL,
    conversations integer NOT NULL DEFAULT 0,
    turns         integer NOT NULL DEFAULT 0,
    failed_turns  integer NOT NULL DEFAULT 0,
    tokens        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE public.model_days (
    tenant_id         uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day               date NOT NULL,
    model             text NOT NULL,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, model)
);

CREATE TABLE public.tool_days (
    tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day       date NOT NULL,
    name      text NOT NULL,
    calls     integer NOT NULL DEFAULT 0,
    failed    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, name)
);

CREATE TABLE public.latency_days (
    tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    day       date NOT NULL,
    metric    text NOT NULL CHECK (metric IN ('turn', 'model', 'tools', 'store', 'tool_call')),
    bucket    integer NOT NULL,
    count     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, metric, bucket)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['activity_days', 'model_days', 'tool_days', 'latency_days'] LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON public.%I FOR ALL TO authenticated'
            ' USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id())', t);
        EXECUTE format('REVOKE ALL ON public.%I FROM anon', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO authenticated', t);
        EXECUTE format('GRANT ALL ON public.%I TO service_role', t);
    END LOOP;
END
$$;

CREATE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.started_at AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, conversations, turns)
        VALUES (NEW.tenant_id, v_day,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND (t.started_at AT TIME ZONE 'UTC')::date = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day;
        INSERT INTO public.model_days AS m (tenant_id, day, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_turns_tally() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER turns_tally AFTER INSERT OR UPDATE OF status ON public.turns
    FOR EACH ROW EXECUTE FUNCTION public.app_turns_tally();

CREATE FUNCTION public.app_tool_calls_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.created_at AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.tool_days AS k (tenant_id, day, name, calls) VALUES (NEW.tenant_id, v_day, NEW.name, 1)
        ON CONFLICT (tenant_id, day, name) DO UPDATE SET calls = k.calls + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        UPDATE public.tool_days SET failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND name = NEW.name;
        IF NEW.duration_ms IS NOT NULL THEN
            INSERT INTO public.latency_days AS l (tenant_id, day, metric, bucket, count)
            VALUES (NEW.tenant_id, v_day, 'tool_call',
                    floor(ln(greatest(NEW.duration_ms, 0.01)) * 23.083120654223414)::integer, 1)
            ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = l.count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_tool_calls_tally() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER tool_calls_tally AFTER INSERT OR UPDATE OF status ON public.tool_calls
    FOR EACH ROW EXECUTE FUNCTION public.app_tool_calls_tally();

-- What exists: the same rollups, computed once.
INSERT INTO public.activity_days (tenant_id, day, conversations, turns, failed_turns, tokens)
SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date, count(DISTINCT conversation_id), count(*),
       count(*) FILTER (WHERE status = 'failed'),
       sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0))
FROM public.turns GROUP BY 1, 2;
INSERT INTO public.model_days (tenant_id, day, model, prompt_tokens, completion_tokens)
SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date, COALESCE(model, 'unknown'),
       sum(COALESCE(prompt_tokens, 0)), sum(COALESCE(completion_tokens, 0))
FROM public.turns WHERE status <> 'running' GROUP BY 1, 2, 3;
INSERT INTO public.tool_days (tenant_id, day, name, calls, failed)
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, name, count(*), count(*) FILTER (WHERE status = 'failed')
FROM public.tool_calls GROUP BY 1, 2, 3;
INSERT INTO public.latency_days (tenant_id, day, metric, bucket, count)
SELECT tenant_id, day, metric, floor(ln(greatest(ms, 0.01)) * 23.083120654223414)::integer, count(*)
FROM (SELECT tenant_id, (started_at AT TIME ZONE 'UTC')::date AS day, v.metric, v.ms
      FROM public.turns,
           LATERAL (VALUES ('turn', latency_ms),
                           ('model', CASE WHEN tools_ms IS NOT NULL THEN model_ms END),
                           ('tools', CASE WHEN model_ms IS NOT NULL THEN tools_ms END),
                           ('store', latency_ms - model_ms - tools_ms)) AS v (metric, ms)
      WHERE status <> 'running'
      UNION ALL
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, 'tool_call', duration_ms
      FROM public.tool_calls WHERE status <> 'running') AS x
WHERE ms IS NOT NULL
GROUP BY 1, 2, 3, 4;

-- Analytics for the Supabase store: the rollups of the days, summed over tenants and days
-- as agent_core/store/analytics.py sums them; the percentiles are computed from the buckets
-- there. p_tenant NULL means every tenant (the app allows it to admins only).
CREATE OR REPLACE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT day, sum(conversations) AS conversations, sum(turns) AS turns,
                   sum(failed_turns) AS failed_turns, sum(tokens) AS tokens
            FROM public.activity_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY day) d), '[]'::jsonb),
        'tools', COALESCE((SELECT jsonb_agg(x ORDER BY x.name) FROM (
            SELECT name, sum(calls) AS calls, sum(failed) AS failed
            FROM public.tool_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY name) x), '[]'::jsonb),
        'models', COALESCE((SELECT jsonb_agg(m ORDER BY m.model) FROM (
            SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion
            FROM public.model_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY model) m), '[]'::jsonb),
        'latency', COALESCE((SELECT jsonb_agg(b ORDER BY b.metric, b.bucket) FROM (
            SELECT metric, bucket, sum(count) AS count
            FROM public.latency_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY metric, bucket) b), '[]'::jsonb)
    );
$$;

-- The reaper locks the conversations of the turns it closes before it closes them (see above).
CREATE OR REPLACE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[])
RETURNS TABLE (tenant_id uuid, conversation_id uuid, turn_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    v_turn record;
    v_event uuid;
BEGIN
    PERFORM 1 FROM public.conversations c
    WHERE (c.tenant_id, c.id) IN (
        SELECT t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now()))
    ORDER BY c.id FOR UPDATE;
    FOR v_turn IN
        SELECT t.id, t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now())
        ORDER BY t.started_at FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE public.turns SET status = 'failed', error = p_error, finished_at = now(), lease_expires_at = NULL
        WHERE id = v_turn.id;
        v_event := gen_random_uuid();
        INSERT INTO public.events (id, tenant_id, name, payload)
        VALUES (v_event, v_turn.tenant_id, 'chat.turn.failed', jsonb_build_object(
            'conversation_id', v_turn.conversation_id::text, 'turn_id', v_turn.id::text, 'error', p_error));
        INSERT INTO public.listener_runs (event_id, listener, tenant_id, status, attempts)
        SELECT v_event, l, v_turn.tenant_id, 'pending', 0 FROM unnest(p_listeners) l;
        tenant_id := v_turn.tenant_id;
        conversation_id := v_turn.conversation_id;
        turn_id := v_turn.id;
        RETURN NEXT;
    END LOOP;
END
$$;
$m0010$;
    INSERT INTO public.schema_migrations (version, name) VALUES (10, 'daily_rollups');

    -- 0011_supabase_grants
    EXECUTE $m0011$
-- Supabase as it is today (issue 22).
--
-- 1. Grants stated, not assumed. Supabase projects created since 2026-05-30 (and every project
--    since 2026-10-30) no longer grant what their owner creates in `public` to the API roles:
--    what the requesting role runs must be granted here. The summary triggers call
--    app_summarise_conversation as the role that wrote the row, and the RLS policies call
--    app_tenant_id as `authenticated`.
GRANT EXECUTE ON FUNCTION public.app_summarise_conversation(uuid, uuid) TO authenticated, service_role;
REVOKE ALL ON FUNCTION public.app_tenant_id() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.app_tenant_id() TO authenticated, service_role;
-- Exactly these grants on the version table and the tenants, whatever the project grants on
-- its own: a project created before 2026-05-30 gives every API role everything on new tables.
REVOKE ALL ON public.schema_migrations FROM anon, authenticated, service_role;
GRANT SELECT ON public.schema_migrations TO service_role;
REVOKE ALL ON public.tenants FROM authenticated;
GRANT SELECT ON public.tenants TO authenticated;

-- 2. "Not found" is SQLSTATE PT404, which PostgREST answers with HTTP 404; P0002 was a 500,
--    which Supabase logs as the server failing.

CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'PT404';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    IF p_retry_of IS NOT NULL THEN
        -- A retry answers the stored message again: only the conversation's last turn, failed.
        IF NOT EXISTS (SELECT FROM (SELECT id, status, user_message FROM public.turns
                                    WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                                    ORDER BY started_at DESC, id DESC LIMIT 1) AS latest
                       WHERE latest.id = p_retry_of AND latest.status = 'failed'
                         AND latest.user_message = p_message) THEN
            RAISE EXCEPTION 'only the last message of a conversation can be retried, once it failed'
                USING ERRCODE = 'VA422';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at, retry_of,
                              channel, started_by)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_contact(p_tenant uuid, p_contact jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.contacts SET name = p_contact->>'name',
        name_key = CASE WHEN name = p_contact->>'name' THEN name_key ELSE p_contact->>'name_key' END,
        email = p_contact->>'email', email_key = p_contact->>'email_key',
        phone = p_contact->>'phone', phone_key = p_contact->>'phone_key', updated_at = now()
    WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_contact->>'id' USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = (p_contact->>'id')::uuid;
END
$$;

CREATE OR REPLACE FUNCTION public.app_merge_contacts(p_tenant uuid, p_keep uuid, p_drop uuid, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.contacts LANGUAGE plpgsql AS $$
DECLARE
    v_drop public.contacts;
BEGIN
    DELETE FROM public.contacts WHERE tenant_id = p_tenant AND id = p_drop AND id <> p_keep RETURNING * INTO v_drop;
    IF v_drop.id IS NULL THEN
        RAISE EXCEPTION 'unknown contact %', p_drop USING ERRCODE = 'PT404';
    END IF;
    -- A detail and its match key are null together, so they are taken over together.
    UPDATE public.contacts SET email = COALESCE(email, v_drop.email), email_key = COALESCE(email_key, v_drop.email_key),
        phone = COALESCE(phone, v_drop.phone), phone_key = COALESCE(phone_key, v_drop.phone_key), updated_at = now()
    WHERE tenant_id = p_tenant AND id = p_keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contact %', p_keep USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.contacts WHERE tenant_id = p_tenant AND id = p_keep;
END
$$;

CREATE OR REPLACE FUNCTION public.app_delete_note(p_tenant uuid, p_note uuid, p_audit jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.notes WHERE tenant_id = p_tenant AND id = p_note;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown note %', p_note USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_tenant_settings(p_tenant uuid, p_settings jsonb, p_audit jsonb)
RETURNS SETOF public.tenants LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.tenants SET settings = p_settings WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    RETURN QUERY SELECT * FROM public.tenants WHERE id = p_tenant;
END
$$;

CREATE OR REPLACE FUNCTION public.app_update_prompt(p_tenant uuid, p_prompt text, p_author text, p_audit jsonb)
RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'PT404';
    END IF;
    SELECT COALESCE(MAX(version), 0) + 1 INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    PERFORM public.app_write_audit(jsonb_set(p_audit, '{after,version}', to_jsonb(v_version)));
    DELETE FROM public.prompt_drafts WHERE tenant_id = p_tenant AND prompt = p_prompt;
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;

CREATE OR REPLACE FUNCTION public.app_delete_scenario(p_tenant uuid, p_scenario uuid, p_audit jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.scenarios WHERE tenant_id = p_tenant AND id = p_scenario;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown scenario %', p_scenario USING ERRCODE = 'PT404';
    END IF;
    PERFORM public.app_write_audit(p_audit);
END
$$;

-- 3. The reaper closes expired turns a page at a time: a REST answer stops at the server's
--    max rows, so the store asks again until a call closes fewer than it asked for.
DROP FUNCTION IF EXISTS public.app_fail_expired_turns(text, text[]);
CREATE OR REPLACE FUNCTION public.app_fail_expired_turns(p_error text, p_listeners text[], p_limit integer)
RETURNS TABLE (tenant_id uuid, conversation_id uuid, turn_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    v_turn record;
    v_event uuid;
BEGIN
    PERFORM 1 FROM public.conversations c
    WHERE (c.tenant_id, c.id) IN (
        SELECT t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now()))
    ORDER BY c.id FOR UPDATE;
    FOR v_turn IN
        SELECT t.id, t.tenant_id, t.conversation_id FROM public.turns t
        WHERE t.status = 'running' AND (t.lease_expires_at IS NULL OR t.lease_expires_at < now())
        ORDER BY t.started_at LIMIT p_limit FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE public.turns SET status = 'failed', error = p_error, finished_at = now(), lease_expires_at = NULL
        WHERE id = v_turn.id;
        v_event := gen_random_uuid();
        INSERT INTO public.events (id, tenant_id, name, payload)
        VALUES (v_event, v_turn.tenant_id, 'chat.turn.failed', jsonb_build_object(
            'conversation_id', v_turn.conversation_id::text, 'turn_id', v_turn.id::text, 'error', p_error));
        INSERT INTO public.listener_runs (event_id, listener, tenant_id, status, attempts)
        SELECT v_event, l, v_turn.tenant_id, 'pending', 0 FROM unnest(p_listeners) l;
        tenant_id := v_turn.tenant_id;
        conversation_id := v_turn.conversation_id;
        turn_id := v_turn.id;
        RETURN NEXT;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION public.app_fail_expired_turns(text, text[], integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_fail_expired_turns(text, text[], integer) TO service_role;
$m0011$;
    INSERT INTO public.schema_migrations (version, name) VALUES (11, 'supabase_grants');

    -- 0012_prompt_publish_check
    EXECUTE $m0012$
-- Publishing names the version it replaces (issue 23): app_update_prompt refuses, with
-- SQLSTATE PT409 (HTTP 409), when another version went live since, instead of silently
-- writing a version over it.
DROP FUNCTION IF EXISTS public.app_update_prompt(uuid, text, text, jsonb);
CREATE OR REPLACE FUNCTION public.app_update_prompt(
    p_tenant uuid, p_prompt text, p_author text, p_audit jsonb, p_replaces integer
) RETURNS SETOF public.prompt_versions LANGUAGE plpgsql AS $$
DECLARE
    v_version integer;
BEGIN
    UPDATE public.tenants SET system_prompt = p_prompt WHERE id = p_tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant %', p_tenant USING ERRCODE = 'PT404';
    END IF;
    SELECT COALESCE(MAX(version), 0) INTO v_version FROM public.prompt_versions WHERE tenant_id = p_tenant;
    IF v_version <> p_replaces THEN
        RAISE EXCEPTION 'version % of the prompt went live after version %, which this change was based on; nothing was published: review the live prompt, then publish again',
            v_version, p_replaces USING ERRCODE = 'PT409';
    END IF;
    v_version := v_version + 1;
    PERFORM public.app_write_audit(jsonb_set(p_audit, '{after,version}', to_jsonb(v_version)));
    DELETE FROM public.prompt_drafts WHERE tenant_id = p_tenant AND prompt = p_prompt;
    RETURN QUERY INSERT INTO public.prompt_versions (tenant_id, version, prompt, author)
        VALUES (p_tenant, v_version, p_prompt, p_author) RETURNING *;
END
$$;
REVOKE ALL ON FUNCTION public.app_update_prompt(uuid, text, text, jsonb, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_update_prompt(uuid, text, text, jsonb, integer) TO service_role;
$m0012$;
    INSERT INTO public.schema_migrations (version, name) VALUES (12, 'prompt_publish_check');

    -- 0013_sign_in_attempts
    EXECUTE $m0013$
-- Sign-in throttling that cannot be raced, and that stores nothing anyone typed (issue 23).
-- sign_in_failures counted failures after the password check, so concurrent sign-ins all
-- passed the check before any was counted, and it was keyed by the typed email (a password
-- typed there was kept). Attempts are now taken before the check, in one statement, under
-- hashed keys: an email from one client, a client, an email.
CREATE TABLE public.sign_in_attempts (
    key      text PRIMARY KEY,
    attempts integer NOT NULL,
    since    timestamptz NOT NULL
);
ALTER TABLE public.sign_in_attempts ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.sign_in_attempts FROM anon, authenticated;
GRANT ALL ON public.sign_in_attempts TO service_role;
DROP FUNCTION public.app_sign_in_failed(text, timestamptz, timestamptz, jsonb);
DROP TABLE public.sign_in_failures;

-- An attempt taken before the password is checked, in one statement: concurrent sign-ins each
-- get their own count, so no more than the limit are ever checked (migration 0013).
CREATE OR REPLACE FUNCTION public.app_take_sign_in_attempt(p_key text, p_now timestamptz, p_window_start timestamptz)
RETURNS TABLE (attempts integer, since timestamptz) LANGUAGE sql AS $$
    INSERT INTO public.sign_in_attempts AS a (key, attempts, since) VALUES (p_key, 1, p_now)
    ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN a.since < p_window_start THEN 1 ELSE a.attempts + 1 END,
        since = CASE WHEN a.since < p_window_start THEN p_now ELSE a.since END
    RETURNING a.attempts, a.since;
$$;

-- A throttled attempt is not one: its count is given back.
CREATE OR REPLACE FUNCTION public.app_give_back_sign_in_attempt(p_key text) RETURNS void LANGUAGE sql AS $$
    UPDATE public.sign_in_attempts SET attempts = attempts - 1 WHERE key = p_key AND attempts > 0;
$$;
REVOKE ALL ON FUNCTION public.app_take_sign_in_attempt(text, timestamptz, timestamptz) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_take_sign_in_attempt(text, timestamptz, timestamptz) TO service_role;
REVOKE ALL ON FUNCTION public.app_give_back_sign_in_attempt(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_give_back_sign_in_attempt(text) TO service_role;
$m0013$;
    INSERT INTO public.schema_migrations (version, name) VALUES (13, 'sign_in_attempts');

    -- 0014_withheld_claims
    EXECUTE $m0014$
-- A reply's claims that no tool of its turn backed (issue 24: "I've noted that…" with no note
-- taken) were held back from the caller but kept nowhere. They are now kept with the turn (the
-- sentences, as a JSON array; NULL when none) and counted per day, so the transcript marks them
-- and Analytics counts them. app_finish_turn stores them from the outcome, the end-of-turn
-- tally counts them, app_analytics sums them; each is otherwise as in migration 0010/0008.
ALTER TABLE public.turns ADD COLUMN withheld_claims jsonb;
ALTER TABLE public.activity_days ADD COLUMN withheld_claims integer NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION public.app_finish_turn(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_reply text, p_outcome jsonb, p_events jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_reply IS NOT NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
        VALUES (p_tenant, p_conversation, p_turn, 'assistant', p_reply);
    END IF;
    UPDATE public.turns SET
        status = p_outcome->>'status',
        reply = p_outcome->>'reply',
        model = p_outcome->>'model',
        prompt_tokens = (p_outcome->>'prompt_tokens')::integer,
        completion_tokens = (p_outcome->>'completion_tokens')::integer,
        model_calls = (p_outcome->>'model_calls')::integer,
        latency_ms = (p_outcome->>'latency_ms')::float8,
        error = p_outcome->>'error',
        model_ms = (p_outcome->>'model_ms')::float8,
        tools_ms = (p_outcome->>'tools_ms')::float8,
        withheld_claims = NULLIF(p_outcome->'withheld_claims', 'null'::jsonb),
        finished_at = now(),
        lease_expires_at = NULL
    WHERE tenant_id = p_tenant AND id = p_turn;
    PERFORM public.app_save_events(p_events);
END
$$;

CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.started_at AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, conversations, turns)
        VALUES (NEW.tenant_id, v_day,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND (t.started_at AT TIME ZONE 'UTC')::date = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            withheld_claims = withheld_claims + COALESCE(jsonb_array_length(NEW.withheld_claims), 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day;
        INSERT INTO public.model_days AS m (tenant_id, day, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_analytics(p_tenant uuid, p_low timestamptz, p_high timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'days', COALESCE((SELECT jsonb_agg(d ORDER BY d.day) FROM (
            SELECT day, sum(conversations) AS conversations, sum(turns) AS turns,
                   sum(failed_turns) AS failed_turns, sum(tokens) AS tokens,
                   sum(withheld_claims) AS withheld_claims
            FROM public.activity_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY day) d), '[]'::jsonb),
        'tools', COALESCE((SELECT jsonb_agg(x ORDER BY x.name) FROM (
            SELECT name, sum(calls) AS calls, sum(failed) AS failed
            FROM public.tool_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY name) x), '[]'::jsonb),
        'models', COALESCE((SELECT jsonb_agg(m ORDER BY m.model) FROM (
            SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion
            FROM public.model_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY model) m), '[]'::jsonb),
        'latency', COALESCE((SELECT jsonb_agg(b ORDER BY b.metric, b.bucket) FROM (
            SELECT metric, bucket, sum(count) AS count
            FROM public.latency_days
            WHERE day >= (p_low AT TIME ZONE 'UTC')::date AND day < (p_high AT TIME ZONE 'UTC')::date
              AND (p_tenant IS NULL OR tenant_id = p_tenant)
            GROUP BY metric, bucket) b), '[]'::jsonb)
    );
$$;
$m0014$;
    INSERT INTO public.schema_migrations (version, name) VALUES (14, 'withheld_claims');

    -- 0015_scale_out
    EXECUTE $m0015$
-- 0015: a turn as light as before its features, and several processes on one database
-- (issue 26).
--
-- * Finding a customer's booking of a day is one indexed look-up: tours keep the folded
--   customer name (`name_key`, computed by the application like the contacts' keys; the
--   Python step `key_tours` fills it for the tours already here). The duplicate checks of
--   app_run_tool_call and app_change_tour compare only that customer's bookings with those
--   the application saw (`seen`), so they no longer read the whole day.
-- * The daily rollups stop serialising a tenant's turns across processes: every turn used to
--   update the same (tenant, day) rows inside its transaction. Each row is now split in 16
--   slots by conversation (a conversation's turns already take turns), and the readers sum
--   the slots (app_analytics and the SQL store's queries already group by day).
-- * The trigram index covers what the text search reads (user and assistant messages), not
--   tool calls and their JSON results, which were most of its upkeep.

ALTER TABLE public.tours ADD COLUMN name_key text;
CREATE INDEX tours_booked_by_name ON public.tours (tenant_id, name_key, tour_date) WHERE status = 'booked';

ALTER TABLE public.activity_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT activity_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot);
ALTER TABLE public.model_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT model_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, model);
ALTER TABLE public.tool_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT tool_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, name);
ALTER TABLE public.latency_days ADD COLUMN slot smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT latency_days_pkey, ADD PRIMARY KEY (tenant_id, day, slot, metric, bucket);

DROP INDEX public.messages_content_trigrams;
CREATE INDEX messages_content_trigrams ON public.messages USING gin (lower(content) extensions.gin_trgm_ops)
    WHERE role IN ('user', 'assistant');

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked at the day's live bookings of this customer before this call
        -- (`seen`, found by the folded name); bookings of one day take turns here, and one
        -- made since means its answer may be stale: the caller runs the tool again (and finds
        -- that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND t.name_key = w->>'name_key' AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, name_key, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', w->>'name_key', (w->>'tour_date')::date,
               w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        -- Contacts likewise: saves of a tenant's contacts take turns, and a contact matching
        -- the details given (`lookup`) that the tool did not see makes it run again.
        PERFORM pg_advisory_xact_lock(hashtextextended('contacts:' || p_tenant, 0))
        WHERE jsonb_array_length(COALESCE(p_writes->'contacts', '[]'::jsonb)) > 0;
        IF EXISTS (
            SELECT FROM public.contacts c, jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
            WHERE c.tenant_id = p_tenant
              AND (c.name_key = w->'lookup'->>'name_key' OR c.email_key = w->'lookup'->>'email_key'
                   OR c.phone_key = w->'lookup'->>'phone_key')
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? c.id::text)
        ) THEN
            RAISE EXCEPTION 'a contact with these details was just saved' USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'email_key',
               w->>'phone', w->>'phone_key'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (id) DO UPDATE SET
            -- A name left as it is keeps its key (a contact kept apart by migration 6 keeps its own).
            name = excluded.name,
            name_key = CASE WHEN public.contacts.name = excluded.name THEN public.contacts.name_key
                            ELSE excluded.name_key END,
            email = excluded.email,
            email_key = excluded.email_key, phone = excluded.phone, phone_key = excluded.phone_key,
            updated_at = now()
        WHERE public.contacts.tenant_id = p_tenant;
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;

CREATE OR REPLACE FUNCTION public.app_change_tour(p_tenant uuid, p_change jsonb, p_audit jsonb, p_events jsonb)
RETURNS SETOF public.tours LANGUAGE plpgsql AS $$
BEGIN
    IF p_change->>'kind' = 'rescheduled' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (p_change->>'to_date'), 0));
        -- The app checked the day's live bookings of this customer (`seen`) for one the move
        -- would duplicate; one booked since it looked means it must look again.
        IF EXISTS (
            SELECT FROM public.tours t
            WHERE t.tenant_id = p_tenant AND t.id <> (p_change->>'tour_id')::uuid AND t.status = 'booked'
              AND t.tour_date = (p_change->>'to_date')::date AND t.name_key = p_change->>'name_key'
              AND NOT (COALESCE(p_change->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'that day''s bookings changed in the meantime: try again' USING ERRCODE = 'VA422';
        END IF;
    END IF;
    IF NOT public.app_apply_tour_change(p_tenant, p_change) THEN
        RAISE EXCEPTION 'the booking was cancelled or changed in the meantime' USING ERRCODE = 'VA422';
    END IF;
    PERFORM public.app_write_audit(p_audit);
    PERFORM public.app_save_events(p_events);
    RETURN QUERY SELECT * FROM public.tours WHERE tenant_id = p_tenant AND id = (p_change->>'tour_id')::uuid;
END
$$;
CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.started_at AT TIME ZONE 'UTC')::date;
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, slot, conversations, turns)
        VALUES (NEW.tenant_id, v_day, v_slot,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND (t.started_at AT TIME ZONE 'UTC')::date = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day, slot) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            withheld_claims = withheld_claims + COALESCE(jsonb_array_length(NEW.withheld_claims), 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot;
        INSERT INTO public.model_days AS m (tenant_id, day, slot, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, v_slot, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, slot, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v_slot, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_tool_calls_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := (NEW.created_at AT TIME ZONE 'UTC')::date;
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.tool_days AS k (tenant_id, day, slot, name, calls)
        VALUES (NEW.tenant_id, v_day, v_slot, NEW.name, 1)
        ON CONFLICT (tenant_id, day, slot, name) DO UPDATE SET calls = k.calls + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        UPDATE public.tool_days SET failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot AND name = NEW.name;
        IF NEW.duration_ms IS NOT NULL THEN
            INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
            VALUES (NEW.tenant_id, v_day, v_slot, 'tool_call',
                    floor(ln(greatest(NEW.duration_ms, 0.01)) * 23.083120654223414)::integer, 1)
            ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
$m0015$;
    INSERT INTO public.schema_migrations (version, name) VALUES (15, 'scale_out');

    -- 0016_dashboard_words
    EXECUTE $m0016$
-- 0016: what the dashboard shows (issue 28). A conversation's outcome "failed" also finds
-- the ones where a tool call failed (a refused booking the caller was told about), not only
-- those with a message left unanswered: the log's query for the Supabase store, as
-- conversation_log.py asks it. And the demo clinic speaks of appointments (its settings, when
-- nobody has changed them yet).

CREATE OR REPLACE FUNCTION public.app_search_conversations(
    p_tenant uuid, p_text text, p_customer text, p_low timestamptz, p_high timestamptz, p_outcome text,
    p_tool text, p_channel text, p_limit integer, p_offset integer
) RETURNS TABLE (
    id uuid, created_at timestamptz, updated_at timestamptz, channel text, started_by text,
    first_message text, turns bigint,
    failed_turns bigint, tokens bigint, duration_ms double precision, booked boolean, cancelled boolean,
    moved boolean, noted boolean, updated boolean, total bigint
) LANGUAGE sql STABLE AS $$
    SELECT c.id, c.created_at, c.updated_at, c.channel, COALESCE(c.started_by, ''), c.first_message,
           c.turn_count::bigint, c.unanswered::bigint, c.tokens, c.duration_ms,
           c.booked, c.cancelled, c.moved, c.noted, c.updated, count(*) OVER ()
    FROM public.conversations c
    WHERE c.tenant_id = p_tenant
      AND (p_text IS NULL OR c.id IN (
          SELECT m.conversation_id FROM public.messages m WHERE m.tenant_id = p_tenant
            AND m.role IN ('user', 'assistant') AND lower(m.content) LIKE p_text ESCAPE '\'))
      AND (p_customer IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant
            AND lower(k.arguments) LIKE p_customer ESCAPE '\'))
      AND (p_tool IS NULL OR c.id IN (
          SELECT k.conversation_id FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.name = p_tool))
      AND (p_channel IS NULL OR c.channel = p_channel)
      AND (p_low IS NULL OR c.created_at >= p_low)
      AND (p_high IS NULL OR c.created_at < p_high)
      AND (p_outcome IS NULL OR CASE p_outcome
          WHEN 'failed' THEN c.unanswered > 0 OR EXISTS (
              SELECT 1 FROM public.tool_calls k WHERE k.tenant_id = p_tenant AND k.conversation_id = c.id
                AND k.status = 'failed')
          WHEN 'booked' THEN c.booked WHEN 'cancelled' THEN c.cancelled
          WHEN 'moved' THEN c.moved WHEN 'noted' THEN c.noted WHEN 'updated' THEN c.updated END)
    ORDER BY c.updated_at DESC, c.id LIMIT p_limit OFFSET p_offset;
$$;

UPDATE public.tenants SET settings = '{"booking_noun": "appointment", "booking_noun_plural": "appointments", "example": "Book an appointment for Ana Silva on 2027-03-15 in Porto."}'::jsonb
WHERE id = '00000000-0000-0000-0000-000000000002' AND settings = '{}'::jsonb;
$m0016$;
    INSERT INTO public.schema_migrations (version, name) VALUES (16, 'dashboard_words');

    -- 0017_tenant_days
    EXECUTE $m0017$
-- 0017: Analytics count in the business's own days (issue 28). A turn keeps the day it
-- started on where its tenant is (`day`: the application knows the tenant's timezone and its
-- default, so it writes the day; app_start_turn takes it as p_day), and the rollup triggers
-- count the turn and its tool calls on that day. Turns from before keep their UTC day (`day`
-- is NULL), as they were counted.

ALTER TABLE public.turns ADD COLUMN day date;

CREATE OR REPLACE FUNCTION public.app_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day date := COALESCE(NEW.day, (NEW.started_at AT TIME ZONE 'UTC')::date);
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A turn counts on the day it started; a conversation once per day it had a turn.
        INSERT INTO public.activity_days AS d (tenant_id, day, slot, conversations, turns)
        VALUES (NEW.tenant_id, v_day, v_slot,
                CASE WHEN EXISTS (SELECT 1 FROM public.turns t WHERE t.tenant_id = NEW.tenant_id
                                  AND t.conversation_id = NEW.conversation_id AND t.id <> NEW.id
                                  AND COALESCE(t.day, (t.started_at AT TIME ZONE 'UTC')::date) = v_day) THEN 0 ELSE 1 END, 1)
        ON CONFLICT (tenant_id, day, slot) DO UPDATE SET conversations = d.conversations + excluded.conversations,
                                                   turns = d.turns + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        -- What a turn adds when it ends (inserted finished, or updated from running).
        UPDATE public.activity_days SET
            failed_turns = failed_turns + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
            tokens = tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            withheld_claims = withheld_claims + COALESCE(jsonb_array_length(NEW.withheld_claims), 0)
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot;
        INSERT INTO public.model_days AS m (tenant_id, day, slot, model, prompt_tokens, completion_tokens)
        VALUES (NEW.tenant_id, v_day, v_slot, COALESCE(NEW.model, 'unknown'), COALESCE(NEW.prompt_tokens, 0),
                COALESCE(NEW.completion_tokens, 0))
        ON CONFLICT (tenant_id, day, slot, model) DO UPDATE SET
            prompt_tokens = m.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = m.completion_tokens + excluded.completion_tokens;
        INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
        SELECT NEW.tenant_id, v_day, v_slot, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
        FROM (VALUES ('turn', NEW.latency_ms),
                     ('model', CASE WHEN NEW.tools_ms IS NOT NULL THEN NEW.model_ms END),
                     ('tools', CASE WHEN NEW.model_ms IS NOT NULL THEN NEW.tools_ms END),
                     ('store', NEW.latency_ms - NEW.model_ms - NEW.tools_ms)) AS v (metric, ms)
        WHERE v.ms IS NOT NULL
        ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_tool_calls_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- A tool call counts on its turn's day.
    v_day date := COALESCE((SELECT t.day FROM public.turns t WHERE t.id = NEW.turn_id),
                           (NEW.created_at AT TIME ZONE 'UTC')::date);
    -- The conversation's slot of its tenant's day (hashtext, as any hash, spreads them).
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.tool_days AS k (tenant_id, day, slot, name, calls)
        VALUES (NEW.tenant_id, v_day, v_slot, NEW.name, 1)
        ON CONFLICT (tenant_id, day, slot, name) DO UPDATE SET calls = k.calls + 1;
    END IF;
    IF NEW.status <> 'running' AND (TG_OP = 'INSERT' OR OLD.status = 'running') THEN
        UPDATE public.tool_days SET failed = failed + CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END
        WHERE tenant_id = NEW.tenant_id AND day = v_day AND slot = v_slot AND name = NEW.name;
        IF NEW.duration_ms IS NOT NULL THEN
            INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
            VALUES (NEW.tenant_id, v_day, v_slot, 'tool_call',
                    floor(ln(greatest(NEW.duration_ms, 0.01)) * 23.083120654223414)::integer, 1)
            ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A new parameter makes a new function: drop the old one, or PostgREST could not choose.
DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text);
CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL, p_day date DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'PT404';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    IF p_retry_of IS NOT NULL THEN
        -- A retry answers the stored message again: only the conversation's last turn, failed.
        IF NOT EXISTS (SELECT FROM (SELECT id, status, user_message FROM public.turns
                                    WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                                    ORDER BY started_at DESC, id DESC LIMIT 1) AS latest
                       WHERE latest.id = p_retry_of AND latest.status = 'failed'
                         AND latest.user_message = p_message) THEN
            RAISE EXCEPTION 'only the last message of a conversation can be retried, once it failed'
                USING ERRCODE = 'VA422';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at, retry_of,
                              channel, started_by, day)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by, p_day);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date)
    FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date)
    TO service_role;
$m0017$;
    INSERT INTO public.schema_migrations (version, name) VALUES (17, 'tenant_days');

    -- 0018_note_customers
    EXECUTE $m0018$
-- 0018: a note shows whose it is (issue 28): it keeps the customer of its conversation's
-- latest booking when it was taken (the tool's writer looks it up, by the new index of a
-- conversation's bookings); the notes already here get theirs the same way. Only the notes'
-- insert in app_run_tool_call changes; the rest is as in migration 0015.

ALTER TABLE public.notes ADD COLUMN customer_name text;
CREATE INDEX tours_conversation ON public.tours (tenant_id, conversation_id, created_at);

UPDATE public.notes n SET customer_name = (
    SELECT t.customer_name FROM public.tours t
    WHERE t.tenant_id = n.tenant_id AND t.conversation_id = n.conversation_id AND t.created_at <= n.created_at
    ORDER BY t.created_at DESC LIMIT 1)
WHERE n.conversation_id IS NOT NULL;

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked at the day's live bookings of this customer before this call
        -- (`seen`, found by the folded name); bookings of one day take turns here, and one
        -- made since means its answer may be stale: the caller runs the tool again (and finds
        -- that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND t.name_key = w->>'name_key' AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, name_key, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', w->>'name_key', (w->>'tour_date')::date,
               w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id, customer_name)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation, w->>'customer_name'
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        -- Contacts likewise: saves of a tenant's contacts take turns, and a contact matching
        -- the details given (`lookup`) that the tool did not see makes it run again.
        PERFORM pg_advisory_xact_lock(hashtextextended('contacts:' || p_tenant, 0))
        WHERE jsonb_array_length(COALESCE(p_writes->'contacts', '[]'::jsonb)) > 0;
        IF EXISTS (
            SELECT FROM public.contacts c, jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
            WHERE c.tenant_id = p_tenant
              AND (c.name_key = w->'lookup'->>'name_key' OR c.email_key = w->'lookup'->>'email_key'
                   OR c.phone_key = w->'lookup'->>'phone_key')
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? c.id::text)
        ) THEN
            RAISE EXCEPTION 'a contact with these details was just saved' USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'email_key',
               w->>'phone', w->>'phone_key'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (id) DO UPDATE SET
            -- A name left as it is keeps its key (a contact kept apart by migration 6 keeps its own).
            name = excluded.name,
            name_key = CASE WHEN public.contacts.name = excluded.name THEN public.contacts.name_key
                            ELSE excluded.name_key END,
            email = excluded.email,
            email_key = excluded.email_key, phone = excluded.phone, phone_key = excluded.phone_key,
            updated_at = now()
        WHERE public.contacts.tenant_id = p_tenant;
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;
$m0018$;
    INSERT INTO public.schema_migrations (version, name) VALUES (18, 'note_customers');

    -- 0019_spoken_turns
    EXECUTE $m0019$
-- 0019: a turn whose message was said aloud (push-to-talk, a live call, /api/voice) is marked
-- so (issue 29): the transcript shows it. app_start_turn takes it as p_spoken.

ALTER TABLE public.turns ADD COLUMN spoken boolean NOT NULL DEFAULT false;

-- A new parameter makes a new function: drop the old one, or PostgREST could not choose.
DROP FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date);
CREATE OR REPLACE FUNCTION public.app_start_turn(
    p_tenant uuid, p_conversation uuid, p_new_conversation uuid, p_turn uuid, p_message text,
    p_lease_seconds float8, p_events jsonb, p_retry_of uuid DEFAULT NULL, p_channel text DEFAULT 'unknown',
    p_started_by text DEFAULT NULL, p_day date DEFAULT NULL,
    p_spoken boolean DEFAULT false
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_conversation uuid := p_conversation;
BEGIN
    IF v_conversation IS NULL THEN
        v_conversation := p_new_conversation;
        INSERT INTO public.conversations (id, tenant_id) VALUES (v_conversation, p_tenant);
    ELSE
        -- The row lock this takes makes concurrent starts on one conversation take turns.
        UPDATE public.conversations SET updated_at = now() WHERE tenant_id = p_tenant AND id = v_conversation;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'conversation % not found for this tenant', v_conversation USING ERRCODE = 'PT404';
        END IF;
        IF EXISTS (SELECT FROM public.turns WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                   AND status = 'running' AND lease_expires_at > now()) THEN
            RAISE EXCEPTION 'conversation % is answering another message', v_conversation USING ERRCODE = 'VA409';
        END IF;
    END IF;
    IF p_retry_of IS NOT NULL THEN
        -- A retry answers the stored message again: only the conversation's last turn, failed.
        IF NOT EXISTS (SELECT FROM (SELECT id, status, user_message FROM public.turns
                                    WHERE tenant_id = p_tenant AND conversation_id = v_conversation
                                    ORDER BY started_at DESC, id DESC LIMIT 1) AS latest
                       WHERE latest.id = p_retry_of AND latest.status = 'failed'
                         AND latest.user_message = p_message) THEN
            RAISE EXCEPTION 'only the last message of a conversation can be retried, once it failed'
                USING ERRCODE = 'VA422';
        END IF;
    END IF;
    INSERT INTO public.turns (id, tenant_id, conversation_id, status, user_message, lease_expires_at, retry_of,
                              channel, started_by, day, spoken)
        VALUES (p_turn, p_tenant, v_conversation, 'running', p_message,
                now() + make_interval(secs => p_lease_seconds), p_retry_of, p_channel, p_started_by, p_day,
                p_spoken);
    IF p_retry_of IS NULL THEN
        INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content)
            VALUES (p_tenant, v_conversation, p_turn, 'user', p_message);
    END IF;
    PERFORM public.app_save_events(p_events);
    RETURN v_conversation;
END
$$;

REVOKE ALL ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date, boolean) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_start_turn(uuid, uuid, uuid, uuid, text, float8, jsonb, uuid, text, text, date, boolean) TO service_role;
$m0019$;
    INSERT INTO public.schema_migrations (version, name) VALUES (19, 'spoken_turns');

    -- 0020_voice_conversations
    EXECUTE $m0020$
-- 0020: the conversation log's channel is `voice` for a conversation whose first message was
-- spoken (issue 29): its turns keep the channel they came through (api, dashboard) and their
-- spoken mark (migration 0019); the summary says how the conversation began.

CREATE OR REPLACE FUNCTION public.app_summarise_conversation(p_tenant uuid, p_conversation uuid)
RETURNS void LANGUAGE sql AS $$
    UPDATE public.conversations c SET
        turn_count = s.turn_count, unanswered = s.unanswered, tokens = s.tokens,
        duration_ms = s.duration_ms,
        channel = COALESCE((SELECT CASE WHEN f.spoken THEN 'voice' ELSE f.channel END FROM public.turns f
                            WHERE f.tenant_id = p_tenant AND f.conversation_id = p_conversation
                            ORDER BY f.started_at, f.id LIMIT 1),
                           'unknown'),
        started_by = (SELECT f.started_by FROM public.turns f WHERE f.tenant_id = p_tenant
                      AND f.conversation_id = p_conversation ORDER BY f.started_at, f.id LIMIT 1)
    FROM (
        SELECT count(*) AS turn_count,
               count(*) FILTER (WHERE t.status = 'failed' AND NOT EXISTS (
                   SELECT 1 FROM public.turns r WHERE r.tenant_id = t.tenant_id
                   AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)) AS unanswered,
               COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) AS tokens,
               COALESCE(sum(t.latency_ms), 0) AS duration_ms
        FROM public.turns t WHERE t.tenant_id = p_tenant AND t.conversation_id = p_conversation
    ) s
    WHERE c.tenant_id = p_tenant AND c.id = p_conversation;
$$;

UPDATE public.conversations c SET channel = 'voice'
WHERE (SELECT f.spoken FROM public.turns f WHERE f.tenant_id = c.tenant_id AND f.conversation_id = c.id
       ORDER BY f.started_at, f.id LIMIT 1);
$m0020$;
    INSERT INTO public.schema_migrations (version, name) VALUES (20, 'voice_conversations');

    -- 0021_voice_turns
    EXECUTE $m0021$
-- 0021: a spoken turn keeps how long each part took and, for as long as its tenant keeps
-- recordings, what the caller said and what the agent answered (issue 29). Its parts count in
-- the latency rollups as the turn's other parts do, on its turn's day: listening (the audio
-- heard), transcribing, answering (transcript to reply text) and first audio (end of speech
-- to the first audio of the reply). A conversation deleted takes its recordings with it.

CREATE TABLE public.voice_turns (
    tenant_id       uuid NOT NULL,
    turn_id         uuid NOT NULL REFERENCES public.turns (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL,
    listening_ms    double precision NOT NULL CHECK (listening_ms >= 0),
    transcribing_ms double precision NOT NULL CHECK (transcribing_ms >= 0),
    answering_ms    double precision CHECK (answering_ms >= 0),
    first_audio_ms  double precision CHECK (first_audio_ms >= 0),
    -- The recordings' format; NULL once they are forgotten (or when none were kept).
    audio_type      text CHECK (audio_type IN ('audio/ogg', 'audio/wav')),
    caller_audio    bytea,
    reply_audio     bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, turn_id),
    FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES public.conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX voice_turns_conversation ON public.voice_turns (tenant_id, conversation_id);
-- What the retention sweep looks through: the recordings still kept.
CREATE INDEX voice_turns_recorded ON public.voice_turns (tenant_id, created_at) WHERE audio_type IS NOT NULL;

ALTER TABLE public.latency_days DROP CONSTRAINT latency_days_metric_check,
    ADD CONSTRAINT latency_days_metric_check CHECK (metric IN (
        'turn', 'model', 'tools', 'store', 'tool_call', 'listening', 'transcribing', 'answering', 'first_audio'));

CREATE FUNCTION public.app_voice_turns_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- A spoken turn's parts count on its turn's day, in its conversation's slot.
    v_day date := (SELECT COALESCE(t.day, (t.started_at AT TIME ZONE 'UTC')::date)
                   FROM public.turns t WHERE t.id = NEW.turn_id);
    v_slot smallint := (hashtext(NEW.conversation_id::text) & 15)::smallint;
BEGIN
    INSERT INTO public.latency_days AS l (tenant_id, day, slot, metric, bucket, count)
    SELECT NEW.tenant_id, v_day, v_slot, v.metric, floor(ln(greatest(v.ms, 0.01)) * 23.083120654223414)::integer, 1
    FROM (VALUES ('listening', NEW.listening_ms), ('transcribing', NEW.transcribing_ms),
                 ('answering', NEW.answering_ms), ('first_audio', NEW.first_audio_ms)) AS v (metric, ms)
    WHERE v.ms IS NOT NULL
    ON CONFLICT (tenant_id, day, slot, metric, bucket) DO UPDATE SET count = l.count + 1;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.app_voice_turns_tally() FROM PUBLIC, anon, authenticated;
CREATE TRIGGER voice_turns_tally AFTER INSERT ON public.voice_turns
    FOR EACH ROW EXECUTE FUNCTION public.app_voice_turns_tally();

ALTER TABLE public.voice_turns ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.voice_turns FOR ALL TO authenticated
    USING (tenant_id = public.app_tenant_id()) WITH CHECK (tenant_id = public.app_tenant_id());
REVOKE ALL ON public.voice_turns FROM anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.voice_turns TO authenticated;
GRANT ALL ON public.voice_turns TO service_role;
$m0021$;
    INSERT INTO public.schema_migrations (version, name) VALUES (21, 'voice_turns');

    -- 0022_forget_recordings
    EXECUTE $m0022$
-- An operator forgets a conversation's recordings (a caller asked): the audio goes, the
-- timings stay; audited when there was any. The audio and the audit entry are written in
-- one transaction, so on Supabase (no SQL connection) the store calls this function.
CREATE OR REPLACE FUNCTION public.app_forget_recordings(p_tenant uuid, p_conversation uuid, p_audit jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_forgotten integer;
BEGIN
    UPDATE public.voice_turns SET audio_type = NULL, caller_audio = NULL, reply_audio = NULL
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND audio_type IS NOT NULL;
    GET DIAGNOSTICS v_forgotten = ROW_COUNT;
    IF v_forgotten > 0 THEN
        PERFORM public.app_write_audit(p_audit);
    END IF;
    RETURN v_forgotten;
END
$$;
REVOKE ALL ON FUNCTION public.app_forget_recordings(uuid, uuid, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.app_forget_recordings(uuid, uuid, jsonb) TO service_role;
$m0022$;
    INSERT INTO public.schema_migrations (version, name) VALUES (22, 'forget_recordings');

    -- 0023_tool_outcomes
    EXECUTE $m0023$
-- 0023: a tool call keeps the outcome its tool declares (booked, cancelled, moved, noted,
-- updated; none for a tool that only reads), and the conversation summary reads that instead
-- of knowing tool names (issue 27: a tool is declared in one place). app_run_tool_call takes
-- it as p_call's `outcome`. Calls made before keep the outcome their tool had then.

ALTER TABLE public.tool_calls ADD COLUMN outcome text;

UPDATE public.tool_calls SET outcome = CASE name
    WHEN 'book_tour' THEN 'booked'
    WHEN 'cancel_tour' THEN 'cancelled'
    WHEN 'reschedule_tour' THEN 'moved'
    WHEN 'take_note' THEN 'noted'
    WHEN 'update_contact_info' THEN 'updated'
END;

CREATE OR REPLACE FUNCTION public.app_tool_calls_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'succeeded' AND NEW.outcome IS NOT NULL THEN
        UPDATE public.conversations SET
            booked = booked OR NEW.outcome = 'booked',
            cancelled = cancelled OR NEW.outcome = 'cancelled',
            moved = moved OR NEW.outcome = 'moved',
            noted = noted OR NEW.outcome = 'noted',
            updated = updated OR NEW.outcome = 'updated'
        WHERE tenant_id = NEW.tenant_id AND id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.app_run_tool_call(
    p_tenant uuid, p_conversation uuid, p_turn uuid, p_call jsonb, p_outcome jsonb, p_writes jsonb,
    p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_record public.tool_calls;
    v_change jsonb;
BEGIN
    INSERT INTO public.tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments, arguments_hash,
                                   status, result, error, duration_ms, model_content, outcome)
    VALUES (p_tenant, p_call->>'id', p_turn, p_conversation, p_call->>'name', p_call->>'arguments',
            p_call->>'arguments_hash', p_outcome->>'status', p_outcome->'result', p_outcome->>'error',
            (p_outcome->>'duration_ms')::float8, p_outcome->>'model_content', p_call->>'outcome')
    ON CONFLICT (tenant_id, conversation_id, call_id, arguments_hash) DO NOTHING;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed = 1 AND p_outcome->>'status' = 'succeeded' THEN
        -- The tool looked at the day's live bookings of this customer before this call
        -- (`seen`, found by the folded name); bookings of one day take turns here, and one
        -- made since means its answer may be stale: the caller runs the tool again (and finds
        -- that booking if it is the same).
        PERFORM pg_advisory_xact_lock(hashtextextended('tours:' || p_tenant || ':' || (w->>'tour_date'), 0))
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        IF EXISTS (
            SELECT FROM public.tours t, jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w
            WHERE t.tenant_id = p_tenant AND t.tour_date = (w->>'tour_date')::date AND t.status = 'booked'
              AND t.name_key = w->>'name_key' AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? t.id::text)
        ) THEN
            RAISE EXCEPTION 'a booking of the same customer, day and place was just made'
                USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.tours (id, tenant_id, customer_name, name_key, tour_date, location, conversation_id)
        SELECT (w->>'id')::uuid, p_tenant, w->>'customer_name', w->>'name_key', (w->>'tour_date')::date,
               w->>'location', p_conversation
        FROM jsonb_array_elements(COALESCE(p_writes->'tours', '[]'::jsonb)) w;
        -- A cancellation or move applies to the booking as the tool saw it; if another turn
        -- changed it since, the tool runs again on what it is now.
        FOR v_change IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes->'tour_changes', '[]'::jsonb)) LOOP
            IF NOT public.app_apply_tour_change(p_tenant, v_change) THEN
                RAISE EXCEPTION 'the booking changed since the tool looked' USING ERRCODE = 'VA412';
            END IF;
        END LOOP;
        INSERT INTO public.notes (id, tenant_id, content, conversation_id, customer_name)
        SELECT (w->>'id')::uuid, p_tenant, w->>'content', p_conversation, w->>'customer_name'
        FROM jsonb_array_elements(COALESCE(p_writes->'notes', '[]'::jsonb)) w;
        -- Contacts likewise: saves of a tenant's contacts take turns, and a contact matching
        -- the details given (`lookup`) that the tool did not see makes it run again.
        PERFORM pg_advisory_xact_lock(hashtextextended('contacts:' || p_tenant, 0))
        WHERE jsonb_array_length(COALESCE(p_writes->'contacts', '[]'::jsonb)) > 0;
        IF EXISTS (
            SELECT FROM public.contacts c, jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
            WHERE c.tenant_id = p_tenant
              AND (c.name_key = w->'lookup'->>'name_key' OR c.email_key = w->'lookup'->>'email_key'
                   OR c.phone_key = w->'lookup'->>'phone_key')
              AND NOT (COALESCE(w->'seen', '[]'::jsonb) ? c.id::text)
        ) THEN
            RAISE EXCEPTION 'a contact with these details was just saved' USING ERRCODE = 'VA412';
        END IF;
        INSERT INTO public.contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key)
        SELECT (w->>'id')::uuid, p_tenant, w->>'name', w->>'name_key', w->>'email', w->>'email_key',
               w->>'phone', w->>'phone_key'
        FROM jsonb_array_elements(COALESCE(p_writes->'contacts', '[]'::jsonb)) w
        ON CONFLICT (id) DO UPDATE SET
            -- A name left as it is keeps its key (a contact kept apart by migration 6 keeps its own).
            name = excluded.name,
            name_key = CASE WHEN public.contacts.name = excluded.name THEN public.contacts.name_key
                            ELSE excluded.name_key END,
            email = excluded.email,
            email_key = excluded.email_key, phone = excluded.phone, phone_key = excluded.phone_key,
            updated_at = now()
        WHERE public.contacts.tenant_id = p_tenant;
    END IF;
    IF v_claimed = 1 THEN
        PERFORM public.app_save_events(p_events);
    END IF;
    SELECT * INTO v_record FROM public.tool_calls
    WHERE tenant_id = p_tenant AND conversation_id = p_conversation AND call_id = p_call->>'id'
      AND arguments_hash = p_call->>'arguments_hash';
    INSERT INTO public.messages (tenant_id, conversation_id, turn_id, role, content, tool_call_id)
    VALUES (p_tenant, p_conversation, p_turn, 'tool', v_record.model_content, p_call->>'id');
    RETURN to_jsonb(v_record) || jsonb_build_object('replayed', v_claimed = 0);
END
$$;
$m0023$;
    INSERT INTO public.schema_migrations (version, name) VALUES (23, 'tool_outcomes');

    -- 0024_text_index_in_batches
    EXECUTE $m0024$
-- 0024 (SQLite's; see its migration of the same number): SQLite keeps its text search's
-- index in batches. PostgreSQL's trigram index (a GIN index, migration 0009) already defers
-- its upkeep to its pending list, so nothing changes here but the note on the table.

COMMENT ON TABLE public.messages IS
    'Every message of every conversation; user and assistant text is found through messages_content_trigrams.';
$m0024$;
    INSERT INTO public.schema_migrations (version, name) VALUES (24, 'text_index_in_batches');

    -- 0025_summaries_by_change
    EXECUTE $m0025$
-- 0025: a conversation's summary is changed by what each turn changes, not recounted from
-- all of its turns (issue 26; SQLite's migration of the same number does the same). Every
-- insert and finish of a turn used to count and sum the conversation's turns again, so a
-- turn cost more the longer its conversation was, and read every one of its turns. The
-- summary still equals what the turns say: turns are only ever inserted and updated (deleted
-- only with their conversation), each case below adds exactly its difference, and the row
-- lock of the UPDATE makes concurrent turns add up rather than overwrite each other.

CREATE OR REPLACE FUNCTION public.app_turns_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- One more turn, its tokens and time; a retry answers the failed turn it retries;
        -- the first turn (by start, then id) says how the conversation began.
        UPDATE public.conversations c SET
            turn_count = c.turn_count + 1,
            unanswered = c.unanswered + (NEW.status = 'failed')::integer
                - (NEW.retry_of IS NOT NULL AND EXISTS (
                    SELECT 1 FROM public.turns o WHERE o.id = NEW.retry_of AND o.tenant_id = NEW.tenant_id
                    AND o.conversation_id = NEW.conversation_id AND o.status = 'failed'
                    AND NOT EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = o.tenant_id
                                    AND r.conversation_id = o.conversation_id AND r.retry_of = o.id
                                    AND r.id <> NEW.id)))::integer,
            tokens = c.tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0),
            duration_ms = c.duration_ms + COALESCE(NEW.latency_ms, 0),
            channel = CASE WHEN f.first THEN (CASE WHEN NEW.spoken THEN 'voice' ELSE NEW.channel END)
                           ELSE c.channel END,
            started_by = CASE WHEN f.first THEN NEW.started_by ELSE c.started_by END
        FROM (SELECT NOT EXISTS (SELECT 1 FROM public.turns e WHERE e.tenant_id = NEW.tenant_id
                                 AND e.conversation_id = NEW.conversation_id
                                 AND (e.started_at, e.id) < (NEW.started_at, NEW.id)) AS first) f
        WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
    ELSIF OLD.retry_of IS DISTINCT FROM NEW.retry_of THEN
        -- Which turn retries which is set when a turn is added; should it ever change, the
        -- summary is counted again from the turns.
        PERFORM public.app_summarise_conversation(NEW.tenant_id, NEW.conversation_id);
    ELSE
        -- It finished, or the reaper closed it: the difference in its tokens and time; it
        -- becomes or stops being unanswered only when its failure changes and no turn
        -- retried it.
        UPDATE public.conversations c SET
            unanswered = c.unanswered + CASE
                WHEN (NEW.status = 'failed') = (OLD.status = 'failed') THEN 0
                WHEN EXISTS (SELECT 1 FROM public.turns r WHERE r.tenant_id = NEW.tenant_id
                             AND r.conversation_id = NEW.conversation_id AND r.retry_of = NEW.id) THEN 0
                ELSE (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer END,
            tokens = c.tokens + COALESCE(NEW.prompt_tokens, 0) + COALESCE(NEW.completion_tokens, 0)
                - COALESCE(OLD.prompt_tokens, 0) - COALESCE(OLD.completion_tokens, 0),
            duration_ms = c.duration_ms + COALESCE(NEW.latency_ms, 0) - COALESCE(OLD.latency_ms, 0)
        WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END
$$;
$m0025$;
    INSERT INTO public.schema_migrations (version, name) VALUES (25, 'summaries_by_change');

    -- 0026_one_index_less
    EXECUTE $m0026$
-- 0026: a tool call's row is written to one index fewer (issue 26). tool_calls_conversation
-- (tenant_id, conversation_id) is the start of the key every call already has (tenant_id,
-- conversation_id, call_id, arguments_hash), which serves the same look-ups; each tool call
-- paid for the second copy in CPU and in a page written with every commit.

DROP INDEX public.tool_calls_conversation;
$m0026$;
    INSERT INTO public.schema_migrations (version, name) VALUES (26, 'one_index_less');

    -- 0027_rollups_in_batches
    EXECUTE $m0027$
-- 0027: on SQLite the daily rollups are kept in batches (issue 26). Nothing changes here:
-- PostgreSQL's rollups are split per slot (migration 0015), so turns do not wait on each
-- other for them, and several processes share one database, which a store's in-process
-- batch could not count for.
$m0027$;
    INSERT INTO public.schema_migrations (version, name) VALUES (27, 'rollups_in_batches');

    -- 0028_unread_indexes
    EXECUTE $m0028$
-- 0028: two indexes nothing reads are dropped (issue 26). turns_tenant_started and
-- tool_calls_tenant_created served analytics when they read a tenant's turns and tool calls
-- by time (migration 0008); since migration 0010 analytics read the daily rollups, and every
-- read of turns or tool calls goes by conversation, id or lease. Each turn paid for the one,
-- each tool call for the other, in CPU and in a page written with its commit.

DROP INDEX public.turns_tenant_started;
DROP INDEX public.tool_calls_tenant_created;
$m0028$;
    INSERT INTO public.schema_migrations (version, name) VALUES (28, 'unread_indexes');

    -- 0029_running_turns_by_conversation
    EXECUTE $m0029$
-- 0029: on SQLite a turn's start looks for a running turn of its conversation in an index
-- of the running turns by conversation (issue 26). Nothing changes here: PostgreSQL's
-- planner already reads the running turns through turns_running_lease, which holds only
-- them, instead of every turn of the conversation.
$m0029$;
    INSERT INTO public.schema_migrations (version, name) VALUES (29, 'running_turns_by_conversation');
END
$schema$;
