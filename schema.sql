-- voice-assistant-mini: PostgreSQL / Supabase schema.
--
-- Apply in a Supabase project's SQL editor, or with `psql -f schema.sql` on PostgreSQL 15+.
-- Idempotent: re-running it changes nothing and keeps data.
--
-- Who may do what:
--   * the app server connects with the service role (Supabase `service_role` key, or the
--     DATABASE_URL owner); that role bypasses RLS, and the app scopes every query by the
--     tenant id of the request itself;
--   * `authenticated` (a signed-in end user or a per-tenant integration) sees and changes
--     only rows of the tenant named by its JWT claim `tenant_id` (or
--     `app_metadata.tenant_id`), enforced by the row-level-security policies below;
--   * `anon` gets nothing.

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
