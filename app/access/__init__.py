"""Access decisions: may this member enter this club now, and if not, why not."""
