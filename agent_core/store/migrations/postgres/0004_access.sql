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
