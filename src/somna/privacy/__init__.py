"""The privacy lifecycle: a person's data archive, deletion with a grace period, retention."""
