"""The package version, alone (the CLI's ``--version`` and the run store read it without
importing torch)."""

__version__ = "0.1.0"
