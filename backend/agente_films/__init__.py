"""Agente Films."""
