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
