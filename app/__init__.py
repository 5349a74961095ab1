"""backend-review: pull-request review as a senior backend engineer would do it."""

__version__ = "0.1.0"
