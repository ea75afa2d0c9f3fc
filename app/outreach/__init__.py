"""Outreach: service calls (queue, attempts, maintenance) and the call briefing."""
