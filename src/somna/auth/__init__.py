"""Accounts, passwords, tokens and the principals that requests act as."""
