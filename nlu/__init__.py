"""Intent detection: what a citizen's free text asks for.

An embedded classifier built from the service definitions runs everywhere; a Rasa server
is used where one is deployed, with the embedded one as its fallback.
"""
