"""``Idempotency-Key`` on creating requests: the first answer is stored per organisation for
24 hours and replayed to a repeat of the same request; another request under the same key is
refused. See ``service.py`` for the rules and ``middleware.py`` for how answers are kept."""
