from build_tasks import ns  # noqa: F401  (Invoke looks for tasks.py; the tasks live in build_tasks.py)
