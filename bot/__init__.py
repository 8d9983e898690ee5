"""The Telegram front end: commands become catalog jobs on the arq queue."""
