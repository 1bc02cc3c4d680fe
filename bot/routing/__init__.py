"""Turns a finished conversation into one routed request: which department leads, who helps."""
