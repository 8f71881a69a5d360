"""Asleep API emulator."""
