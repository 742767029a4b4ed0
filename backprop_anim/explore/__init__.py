"""Explore: a local page where a student edits a value and watches one training step
recompute, operation by operation, with every number (docs/explore.md).

The session (config + trace, validated edits) and the page's view model need only the
core install; the HTTP server needs the ``explore`` extra (Starlette, uvicorn).
"""

from .session import EditError, ExploreSession, State

__all__ = ["EditError", "ExploreSession", "State"]
