"""Intent detection (later issue)."""
