"""The channel-independent conversation: which question is open, and what an answer means."""
