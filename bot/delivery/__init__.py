"""Getting things out of the database reliably: messages to residents and webhook calls,
through an outbox table that survives restarts and is shared safely between processes."""
