"""Config for Tortoise's own command line, used by developers to write migrations:

    DATABASE_URL=sqlite://var/dev.sqlite3 tortoise -c wallet.tortoise_cli_config.TORTOISE_ORM makemigrations

Applications never import this module (it reads the environment at import).
"""

import os

from wallet.db import tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://var/makemigrations.sqlite3"))
