"""Deterministic backend rules."""
