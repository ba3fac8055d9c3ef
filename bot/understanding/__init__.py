"""What a message asks beyond its topic: the request, the place it is about, an emergency.

Pure functions of the normalised text, built once per knowledge base from
content/understanding.yaml, so a new request kind, place or emergency phrase is a data edit.
"""

from .reader import Reader, Understanding

__all__ = ["Reader", "Understanding"]
