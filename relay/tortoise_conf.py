"""For tortoise's own CLI when a model changes: `tortoise -c relay.tortoise_conf.TORTOISE_ORM makemigrations`."""

import os

from relay.db import tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("RELAY_DATABASE_URL", "sqlite://var/makemigrations.sqlite3"))
