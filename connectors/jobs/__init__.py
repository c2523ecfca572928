"""Background jobs claimed from the database by any number of workers."""
