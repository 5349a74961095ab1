"""A package the regex audit's own tests scan: one pattern held every way it can be."""
