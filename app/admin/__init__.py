"""The operator's commands: `jobs`, `deliveries`, `config check` and `doctor`.

    backend-review jobs list [--status S] [--kind K] [--limit N]
    backend-review jobs retry ID...          dead or done -> queued, attempts reset
    backend-review jobs cancel ID...         queued -> superseded
    backend-review deliveries list [--limit N] [--event E]
    backend-review deliveries replay ID      queue a stored delivery's jobs again
    backend-review deliveries recover [--since 24h] [--limit N] [--dry-run]
    backend-review config check FILE
    backend-review doctor

Exit codes: 0 done; 1 it ran, but something asked for was refused or failed (a running job, a
redelivery GitHub refused, a config with problems, a FAIL from doctor); 2 it could not run
(usage, configuration, an unreachable or unmigrated database, GitHub refusing the App). Errors
are one line on stderr, never a traceback, never a secret's value.
"""
