"""Organisations: the tenants every resource belongs to."""
