"""Raasel: multi-tenant real-time messaging and customer support."""

__version__ = "0.1.0"
