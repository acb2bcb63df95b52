"""Seams over library internals the gateway leans on for speed: one module per library,
each with a contract test (tests/gateway/compat/) and an upper version bound in
pyproject.toml. Domain code calls these, never the internals. redis-py's seam is
`state.redis_compat` (state/ cannot import gateway/)."""
