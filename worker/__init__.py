"""The arq worker: `WorkerSettings` (worker.settings) and the job functions (worker.jobs)."""
