"""Config for Tortoise's own command line, used by developers to write migrations:

    tortoise -c wallet.tortoise_cli_config.TORTOISE_ORM makemigrations --name NAME

Applications never import this module (it reads the environment at import).
"""

import os

from wallet.db import tortoise_config

TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL", "sqlite://var/makemigrations.sqlite3")
)
