"""The entry job: start plans, place due tranches, follow them, close cycles."""
