"""The API's resources, one class per group of operations."""
