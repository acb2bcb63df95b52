"""Tests of the documents a submission issues: PDF rendering and document stores."""
