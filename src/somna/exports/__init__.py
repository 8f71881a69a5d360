"""Exports: per-person JSON, one combined expanded CSV, and Parquet per collection."""
