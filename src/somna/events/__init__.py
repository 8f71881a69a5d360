"""Usage-analytics ingestion, compatible with the Klyne API document: single and batch event
submission by package-bound API keys, an events-per-hour budget per key, idempotent retries by
client ``event_id``, and the publisher's usage report. No personal data is accepted."""
