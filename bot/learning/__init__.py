"""The NLU learning loop: the inbox of messages to label, masking personal data, and retraining."""
