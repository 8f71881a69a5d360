"""Syncing many connections now, in this process: which ones, with a bar each, and what the
runs did. ``somna admin sync`` and ``somna demo`` both drive it; it sits below both, since
neither top-level command may import the other."""
