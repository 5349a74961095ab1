"""The pure review core: text and data in, data out. No network, database, clock or environment."""
