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
