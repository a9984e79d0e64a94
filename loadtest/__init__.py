"""Locust-specific helpers of the load test (locustfile.py is the face; `callers/` never imports this)."""
