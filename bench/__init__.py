"""Agente Films benchmark harness: our server against ADK's stock api_server and against the floor.

`python -m bench.run` runs everything (see docs/benchmarks.md); `python -m bench.fake_llm` serves the
scripted OpenAI-compatible model on its own.
"""
