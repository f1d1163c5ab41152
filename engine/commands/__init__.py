"""One module per `python -m engine` command (discovered by engine.cli)."""
