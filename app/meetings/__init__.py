"""Meetings: in-club meetings booked by calls or at the desk, their slots and outcomes."""
