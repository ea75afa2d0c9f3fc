"""Plans (membership types): duration, price, visit limit, hours, freeze policy."""
