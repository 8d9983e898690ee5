"""The REST API and the queue dashboard: the job catalog and `JobQueue` over HTTP."""
