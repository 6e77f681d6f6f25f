"""Tools the agents can call (research, ...)."""
