"""Sleep analytics: pure calculations (``calculations``) and, around them, the service and
endpoints that read the store and serve the results."""
