"""The fault suite (services leg only): it starts its own PostgreSQL and Redis and breaks them.

On the embedded leg (no PostgreSQL ``DATABASE_URL``) nothing here is collected: the leg has
no servers to break. On the services leg it always runs; a missing ``initdb`` or
``redis-server`` fails it rather than skipping it.
"""

from __future__ import annotations

import os

collect_ignore_glob = (
    [] if os.environ.get("DATABASE_URL", "").startswith("postgres") else ["test_*.py"]
)
