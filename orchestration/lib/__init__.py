"""Pure helpers used by the Dagster definitions. Nothing here runs at import time."""
