"""Tests of the channel adapters, through HTTP."""
