"""Domain-agnostic kit shared by every domain. Imports no domain module."""
