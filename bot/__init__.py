"""CDHT Policy Bot: answers public-policy questions about the Chengdu Hi-Tech Zone."""
