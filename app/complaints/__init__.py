"""Complaints: tracked cases with an owner, a due time by severity, a resolution and
compensation applied to the membership (DESIGN principle 8)."""
