"""Wegwijs core: the path of a message, from NLU through dialogue to routing and storage."""
