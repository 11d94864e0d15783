"""Command-line tools behind `cds-service check`, `cds-service demo` and `cds-service feedback report`.

One small module per command; cds_service/cli.py only wires their arguments."""
