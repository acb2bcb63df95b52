"""The studio: civil servants write, check, test and submit service drafts."""
