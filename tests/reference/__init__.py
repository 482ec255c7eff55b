"""Independent references the tests check the engine against, written from the documented
rules only (never importing the code they check)."""
