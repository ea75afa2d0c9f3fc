"""Working hours: when each consultant or trainer takes meetings in each club."""
