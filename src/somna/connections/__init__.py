"""A person's links to providers: connect flows, encrypted tokens, listing and disconnecting."""
