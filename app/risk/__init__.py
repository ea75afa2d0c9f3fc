"""Lapse risk: the scan, the score, the assessments and the risk list."""
