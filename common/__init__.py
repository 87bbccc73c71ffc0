"""Helpers every package may use (agent, knowledge and models alike): no torch, no agent imports.

One home for what was written several times: user-facing errors and exit codes, atomic writes and
the check that an output can be written before the work starts, terminal-safe text.
"""
