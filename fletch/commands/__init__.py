"""Subcommands of the `fletch` CLI; see fletch/cli.py."""
