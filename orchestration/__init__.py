"""Dagster orchestration of the billing pipeline (assets, checks, schedules, the `billing` CLI)."""
