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
