"""Textual widgets shared by the kiosk's screens (status bar, translated key bar)."""
