"""WHOOP v2 emulator."""
