-- 0016: what the dashboard shows (issue 28; see the PostgreSQL migration of the same number).
-- The "failed" outcome's query is in conversation_log.py for SQLite; here, the demo clinic
-- speaks of appointments (its settings, when nobody has changed them yet; a new file gets
-- them when the demo tenants are added).

UPDATE tenants SET settings = '{"booking_noun": "appointment", "booking_noun_plural": "appointments", "example": "Book an appointment for Ana Silva on 2027-03-15 in Porto."}'
WHERE id = '00000000-0000-0000-0000-000000000002' AND settings = '{}';
