"""What an evaluation shows people: the HTML report and its figures, the terminal's
tables, and the README's Results blocks written from ``summary.json``."""
