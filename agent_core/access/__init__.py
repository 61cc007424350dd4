"""Who may do what: principals and roles, sign-in, API keys and the audit log."""
