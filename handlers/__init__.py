"""Channels: Telegram handlers and the terminal chat. They translate between a channel's
messages and the channel-independent ConversationService, and do nothing else."""
