"""What `make run` (GATEWAY_DEVELOPMENT=true) offers a newcomer: sample registries."""
