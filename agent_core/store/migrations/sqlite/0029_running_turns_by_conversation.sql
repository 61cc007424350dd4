-- 0029: a turn's start looks for a running turn of its conversation in the running turns
-- alone (issue 26). The look-up went through turns_conversation and read every turn the
-- conversation ever had (~58 µs a start at 300 turns, growing with each); the running turns
-- of one conversation are one or none. The reaper reads every running turn either way.
-- The same number of indexes: nothing more to write per turn.

DROP INDEX turns_running_lease;
CREATE INDEX turns_running ON turns (tenant_id, conversation_id, lease_expires_at) WHERE status = 'running';
