"""Background work: the outbox relay, the tasks it runs, and the processes that run them."""
