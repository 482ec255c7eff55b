"""The one choke point to the venue: the order manager and the book it values."""
