"""Which stored sleep counts for each night of a person: the write-side index that records,
people, organisations and connections keep true as data and preferences change."""
