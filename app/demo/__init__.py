"""The demo club behind `club-renewal demo-data` and `club-renewal serve --demo`."""
