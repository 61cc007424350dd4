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
