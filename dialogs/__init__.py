"""Service definitions: format, checker, compiler, engine, renderers. No I/O here."""
