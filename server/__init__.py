"""The FastAPI app, settings, routes and rooms that wire media to agents; the CLI."""
