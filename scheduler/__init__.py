"""Scheduled work: rows in the `job` table, claimed safely by any number of workers, each done once."""
