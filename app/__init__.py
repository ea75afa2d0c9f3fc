"""club-renewal: keep fitness-club members after the sale."""

__version__ = "0.1.0"
