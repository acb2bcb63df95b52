"""Conversational gateway: FastAPI app, channel adapters, CLI."""
