"""Tracked people (``/users`` in the API) and their preferences."""
