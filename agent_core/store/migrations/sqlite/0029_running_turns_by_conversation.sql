-- 0029: a turn's start looks for a running turn of its conversation in the running turns
-- alone (issue 26). The look-up went through turns_conversation and read every turn the
-- conversation ever had: a start took 114 µs after 200 turns and 184 after 1,000, against
-- ~80 at any length with this index (the running turns of one conversation are one or
-- none). The reaper reads every running turn either way; a turn writes as many indexes.

DROP INDEX turns_running_lease;
CREATE INDEX turns_running ON turns (tenant_id, conversation_id, lease_expires_at) WHERE status = 'running';
