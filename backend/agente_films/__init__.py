"""Agente Films: an open multi-agent film-pitch studio."""

__version__ = "0.1.0"
