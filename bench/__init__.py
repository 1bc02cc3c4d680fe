"""Benchmarks that run the real bot, the real Rasa server and a fake Telegram on one machine."""
