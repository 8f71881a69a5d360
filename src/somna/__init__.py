"""Somna: a self-hosted sleep and recovery data platform."""

__version__ = "0.1.0"
