"""Rendering reports for people: CSV that spreadsheet software opens, printable HTML."""
