"""Session stores and database (later issue)."""
