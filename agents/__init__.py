"""Agents: coroutines and handlers that talk only through the hub's typed messages."""
