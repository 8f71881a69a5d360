"""``somna demo``: a demo organisation on the sandboxes, connected through the real flows,
synced, exported and summarised; the pieces the CLI command (``somna.cli.demo``) drives."""
