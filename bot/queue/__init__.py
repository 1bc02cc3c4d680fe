"""The officials' side of a request: its status workflow, the actions on it and the queue."""
