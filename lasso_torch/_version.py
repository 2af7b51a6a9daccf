"""The package version, alone (``runs`` records it without importing the package)."""

__version__ = "0.1.0"
