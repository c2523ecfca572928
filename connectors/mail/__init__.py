"""E-mail: messages leave through the background job queue, never from a request.

A message is enqueued in the transaction of the change that calls for it (a reminder,
an escalation, a procedure's service task), so it is sent once that change commits and
never for one that rolled back; a worker sends it over SMTP with retries and backoff,
and a message the server refuses for good ends in the dead-letter list at once.
"""
