"""Staff accounts, departments and groups; login and the current user."""
