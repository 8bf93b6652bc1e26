"""HTTP API (FastAPI). Build it with :func:`lanhai.api.app.create_app`."""
