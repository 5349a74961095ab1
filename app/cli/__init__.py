"""The `backend-review` command line: `main` (serve, worker, db), the local review, admin."""
