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
