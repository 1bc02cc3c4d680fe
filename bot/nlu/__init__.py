"""Understanding a resident's text: the Rasa client and the parsing of dates, times and numbers."""
