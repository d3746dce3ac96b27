"""The dashboard's own pages: home, login and logout, the language switch, /health. Assembled by servicepulse/app.py."""
