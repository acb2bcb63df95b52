"""The civil servants' console: sign-in, the applications desk, figures, the audit log
and people, as server-rendered pages under `/console`."""
