"""Clerks' inbox: my tasks, my groups' unclaimed tasks, claim, open, complete."""
