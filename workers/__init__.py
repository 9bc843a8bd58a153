"""RQ entry points: job functions (tasks) and worker start-up (runner)."""
