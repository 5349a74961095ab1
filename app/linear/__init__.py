"""linear adapter."""
