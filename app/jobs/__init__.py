"""What each kind of job does with GitHub, the core and the model (the orchestration layer)."""
